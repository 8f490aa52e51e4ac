//! The batcher: groups filtered edges into numbered batches, closed by count or by age.
//!
//! Age is measured on the signal's own time axis (UTC µs of samples), not on a wall clock read
//! here: a batch closes once the samples seen reach `max_age` past its oldest entry. That keeps
//! the batcher pure and deterministic, and on a live sampler the two clocks advance together.

use super::{Edge, Gap, PinLevel, RateLimited, MAX_PIN};

/// Edges published in one MQTT message, numbered by `seq` within a `run`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Random id chosen at process start; `seq` restarts at 0 with every run.
    pub run: u64,
    /// 0, 1, 2, … within the run, never skipping a number.
    pub seq: u64,
    /// Edges in the order they were released by the filters (time order per pin).
    pub edges: Vec<Edge>,
    /// Sample gaps (overruns, restarts) that happened while this batch was open.
    pub gaps: Vec<Gap>,
    /// Edges dropped by the per-pin rate limits while this batch was open, one entry per pin
    /// (pin order), counted at the end of each sample block.
    pub rate_limited: Vec<RateLimited>,
    /// Level of every watched pin after the last edge of the batch, in pin order.
    pub levels: Vec<PinLevel>,
}

/// Collects edges and closes a batch at `max_edges` edges or `max_age_us` after its oldest entry.
#[derive(Debug)]
pub struct Batcher {
    run: u64,
    next_seq: u64,
    max_edges: usize,
    max_age_us: u64,
    edges: Vec<Edge>,
    gaps: Vec<Gap>,
    rate_limited: Vec<RateLimited>,
    /// Signal time of the oldest entry of the open batch.
    oldest_us: Option<u64>,
    /// Current level of each watched pin (`None`: not watched or not yet known).
    levels: [Option<u8>; MAX_PIN as usize + 1],
}

impl Batcher {
    /// A batcher for `run` closing batches at `max_edges` (≥ 1) edges or `max_age_us` age.
    pub fn new(run: u64, max_edges: usize, max_age_us: u64) -> Self {
        let max_edges = max_edges.max(1);
        Batcher {
            run,
            next_seq: 0,
            max_edges,
            max_age_us,
            edges: Vec::with_capacity(max_edges),
            gaps: Vec::new(),
            rate_limited: Vec::new(),
            oldest_us: None,
            levels: [None; MAX_PIN as usize + 1],
        }
    }

    /// Sets the known levels (initial state, or after a pin was added); other pins keep theirs.
    pub fn set_levels(&mut self, levels: &[PinLevel]) {
        for l in levels {
            if let Some(slot) = self.levels.get_mut(usize::from(l.pin)) {
                *slot = Some(l.level);
            }
        }
    }

    /// Changes the limits without losing the open batch; returns it when it already holds the
    /// new `max_edges` (the caller sends it like any closed batch).
    pub fn set_limits(&mut self, max_edges: usize, max_age_us: u64) -> Option<Batch> {
        self.max_edges = max_edges.max(1);
        self.max_age_us = max_age_us;
        (self.edges.len() >= self.max_edges).then(|| self.close())
    }

    /// Forgets a pin that is no longer watched.
    pub fn forget_pin(&mut self, pin: u8) {
        if let Some(slot) = self.levels.get_mut(usize::from(pin)) {
            *slot = None;
        }
    }

    /// The sequence number the next closed batch will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Whether the open batch holds anything.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty() && self.gaps.is_empty() && self.rate_limited.is_empty()
    }

    /// Adds an edge; returns the batch it completed when it was the `max_edges`-th.
    pub fn push(&mut self, edge: Edge) -> Option<Batch> {
        self.open_at(edge.t_us);
        if let Some(slot) = self.levels.get_mut(usize::from(edge.pin)) {
            *slot = Some(edge.level);
        }
        self.edges.push(edge);
        (self.edges.len() >= self.max_edges).then(|| self.close())
    }

    /// Records a gap in the open batch (it is sent with the next close).
    pub fn push_gap(&mut self, gap: Gap) {
        self.open_at(gap.to_us);
        self.gaps.push(gap);
    }

    /// Adds rate-limited edges seen by `t_us` to the open batch (merged per pin; sent with the
    /// next close, which a marker alone also brings by age: counts are never held back).
    pub fn push_rate_limited(&mut self, limited: RateLimited, t_us: u64) {
        if limited.edges == 0 {
            return;
        }
        self.open_at(t_us);
        match self
            .rate_limited
            .binary_search_by_key(&limited.pin, |r| r.pin)
        {
            Ok(at) => self.rate_limited[at].edges += limited.edges,
            Err(at) => self.rate_limited.insert(at, limited),
        }
    }

    /// Closes the open batch if samples up to `now_us` make it `max_age_us` old.
    pub fn poll(&mut self, now_us: u64) -> Option<Batch> {
        let oldest = self.oldest_us?;
        (now_us.saturating_sub(oldest) >= self.max_age_us).then(|| self.close())
    }

    /// Closes the open batch now if it holds anything (shutdown, end of signal).
    pub fn flush(&mut self) -> Option<Batch> {
        (!self.is_empty()).then(|| self.close())
    }

    fn open_at(&mut self, t_us: u64) {
        if self.oldest_us.is_none() {
            self.oldest_us = Some(t_us);
        }
    }

    fn close(&mut self) -> Batch {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.oldest_us = None;
        let levels = self
            .levels
            .iter()
            .enumerate()
            .filter_map(|(pin, l)| {
                l.map(|level| PinLevel {
                    pin: pin as u8,
                    level,
                })
            })
            .collect();
        Batch {
            run: self.run,
            seq,
            edges: std::mem::replace(&mut self.edges, Vec::with_capacity(self.max_edges)),
            gaps: std::mem::take(&mut self.gaps),
            rate_limited: std::mem::take(&mut self.rate_limited),
            levels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
        Edge { pin, level, t_us }
    }

    #[test]
    fn closes_at_max_edges() {
        let mut b = Batcher::new(7, 2, 1_000_000);
        assert!(b.push(edge(1, 1, 10)).is_none());
        let batch = b.push(edge(1, 0, 20)).expect("full batch");
        assert_eq!((batch.run, batch.seq, batch.edges.len()), (7, 0, 2));
        assert!(b.is_empty());
    }

    #[test]
    fn new_limits_keep_the_open_batch() {
        let mut b = Batcher::new(7, 10, 1_000_000);
        b.push(edge(1, 1, 10));
        b.push(edge(1, 0, 20));
        assert!(b.set_limits(5, 1_000_000).is_none());
        b.push(edge(1, 1, 30));
        let batch = b.set_limits(2, 1_000_000).expect("already full");
        assert_eq!((batch.seq, batch.edges.len()), (0, 3));
        assert!(b.push(edge(1, 0, 40)).is_none());
        assert_eq!(b.push(edge(1, 1, 50)).map(|x| x.seq), Some(1));
    }

    #[test]
    fn closes_by_age_of_oldest_entry() {
        let mut b = Batcher::new(1, 100, 10_000);
        b.push(edge(3, 1, 1_000));
        assert!(b.poll(10_999).is_none());
        let batch = b.poll(11_000).expect("aged batch");
        assert_eq!(batch.edges, vec![edge(3, 1, 1_000)]);
        assert!(b.poll(1_000_000).is_none(), "empty batches are never sent");
    }

    #[test]
    fn gaps_travel_with_the_batch_and_count_for_age() {
        let mut b = Batcher::new(1, 100, 5);
        let gap = Gap {
            from_us: 10,
            to_us: 50,
            samples: 8,
        };
        b.push_gap(gap);
        let batch = b.poll(55).expect("gap-only batch closes");
        assert_eq!(batch.gaps, vec![gap]);
        assert!(batch.edges.is_empty());
    }

    #[test]
    fn rate_limited_counts_merge_per_pin_and_travel_with_the_batch() {
        let mut b = Batcher::new(1, 3, 100);
        let lim = |pin, edges| RateLimited { pin, edges };
        b.push_rate_limited(lim(9, 0), 5);
        assert!(b.is_empty(), "a zero count is nothing");
        b.push(edge(4, 1, 10));
        b.push_rate_limited(lim(18, 7), 20);
        b.push_rate_limited(lim(9, 2), 20);
        b.push_rate_limited(lim(18, 5), 30);
        b.push(edge(4, 0, 40));
        let batch = b.push(edge(4, 1, 50)).expect("full");
        assert_eq!(batch.rate_limited, vec![lim(9, 2), lim(18, 12)]);
        assert_eq!(batch.seq, 0);
        // A marker alone opens a batch and closes it by age: the count is not held back.
        b.push_rate_limited(lim(18, 3), 60);
        assert!(b.poll(159).is_none());
        let batch = b.poll(160).expect("aged marker-only batch");
        assert_eq!((batch.seq, batch.edges.len()), (1, 0));
        assert_eq!(batch.rate_limited, vec![lim(18, 3)]);
        assert!(b.flush().is_none());
    }

    #[test]
    fn levels_snapshot_follows_edges() {
        let mut b = Batcher::new(1, 2, 1_000);
        b.set_levels(&[PinLevel { pin: 4, level: 0 }, PinLevel { pin: 9, level: 1 }]);
        b.push(edge(4, 1, 1));
        let batch = b.push(edge(9, 0, 2)).unwrap();
        assert_eq!(
            batch.levels,
            vec![PinLevel { pin: 4, level: 1 }, PinLevel { pin: 9, level: 0 }]
        );
        b.forget_pin(9);
        b.push(edge(4, 0, 3));
        assert_eq!(
            b.flush().unwrap().levels,
            vec![PinLevel { pin: 4, level: 0 }]
        );
    }

    proptest! {
        /// Whatever the mix of pushes, rate-limit markers, polls and flushes: seq is contiguous
        /// from 0, no edge is lost or reordered, no count is lost, no batch is empty or
        /// over-full.
        #[test]
        fn seq_contiguous_and_nothing_lost(
            ops in proptest::collection::vec((0u8..4, 0u64..50), 0..300),
            max_edges in 1usize..20,
            max_age in 0u64..100,
        ) {
            let mut b = Batcher::new(42, max_edges, max_age);
            let mut t = 0u64;
            let mut pushed = Vec::new();
            let mut limited = [0u64; 54];
            let mut batches = Vec::new();
            for (op, dt) in ops {
                t += dt;
                match op {
                    0 => {
                        let e = edge((dt % 54) as u8, (dt % 2) as u8, t);
                        pushed.push(e);
                        batches.extend(b.push(e));
                    }
                    1 => batches.extend(b.poll(t)),
                    2 => {
                        let r = RateLimited { pin: (dt % 3) as u8 * 20, edges: dt };
                        limited[usize::from(r.pin)] += r.edges;
                        b.push_rate_limited(r, t);
                    }
                    _ => batches.extend(b.flush()),
                }
            }
            batches.extend(b.flush());
            let mut counted = [0u64; 54];
            for (i, batch) in batches.iter().enumerate() {
                prop_assert_eq!(batch.seq, i as u64);
                prop_assert_eq!(batch.run, 42);
                prop_assert!(!(batch.edges.is_empty() && batch.rate_limited.is_empty()));
                prop_assert!(batch.edges.len() <= max_edges);
                prop_assert!(batch.rate_limited.windows(2).all(|w| w[0].pin < w[1].pin));
                for r in &batch.rate_limited {
                    prop_assert!(r.edges > 0);
                    counted[usize::from(r.pin)] += r.edges;
                }
            }
            prop_assert_eq!(counted, limited);
            let out: Vec<Edge> = batches.into_iter().flat_map(|b| b.edges).collect();
            prop_assert_eq!(out, pushed);
        }
    }
}
