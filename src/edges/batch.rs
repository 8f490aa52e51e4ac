//! The batcher: groups filtered edges into numbered batches, closed by count or by age.
//!
//! Age is measured on the signal's own time axis (UTC µs of samples), not on a wall clock read
//! here: a batch closes once the samples seen reach `max_age` past its oldest entry. That keeps
//! the batcher pure and deterministic, and on a live sampler the two clocks advance together.

use super::size::SizeBound;
pub use super::size::{
    BatchFormat, EDGE_MAX_BYTES, GAP_MAX_BYTES, HEADER_MAX_BYTES, RATE_LIMITED_MAX_BYTES,
};
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
    /// The payload format it is published in: the one its size was bounded for when it closed.
    pub format: BatchFormat,
}

/// Collects edges and closes a batch at `max_edges` edges or `max_age_us` after its oldest entry.
#[derive(Debug)]
pub struct Batcher {
    run: u64,
    next_seq: u64,
    max_edges: usize,
    max_age_us: u64,
    /// A batch closes before an edge would take its encoded size beyond this (bytes).
    max_bytes: usize,
    /// Upper bound of the open batch's encoded size, in the format it will be published in.
    bytes: SizeBound,
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
            max_bytes: usize::MAX,
            bytes: SizeBound::new(BatchFormat::default()),
            edges: Vec::with_capacity(max_edges),
            gaps: Vec::new(),
            rate_limited: Vec::new(),
            oldest_us: None,
            levels: [None; MAX_PIN as usize + 1],
        }
    }

    /// Closes batches before their encoded size (bounded from above: [`HEADER_MAX_BYTES`] and
    /// the per-entry maxima) would pass `max_bytes`; a batch always takes its first edge.
    /// Returns the open batch when it is already at the limit.
    pub fn set_max_bytes(&mut self, max_bytes: usize) -> Option<Batch> {
        self.max_bytes = max_bytes;
        (!self.edges.is_empty() && self.bytes.bytes() + EDGE_MAX_BYTES > self.max_bytes)
            .then(|| self.close())
    }

    /// Publishes the next batches in `format`. The open batch, bounded for the old format, is
    /// closed and returned in it (a batch is never re-bounded: its size could pass `max_bytes`).
    pub fn set_format(&mut self, format: BatchFormat) -> Option<Batch> {
        if format == self.bytes.format() {
            return None;
        }
        let open = self.flush();
        self.bytes = SizeBound::new(format);
        open
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

    /// Adds an edge; returns the batch it completed when it was the `max_edges`-th, or the open
    /// batch closed before it when the edge would take it beyond `max_bytes` (the edge then
    /// opens the next batch).
    pub fn push(&mut self, edge: Edge) -> Option<Batch> {
        let cost = self.bytes.edge_cost(&edge, self.edges.len());
        if !self.edges.is_empty() && self.bytes.bytes() + cost > self.max_bytes {
            let full = self.close();
            let next = self.push(edge);
            // The batch just closed held an edge, so max_edges > 1: one edge cannot fill the next.
            debug_assert!(next.is_none());
            return Some(full);
        }
        self.open_at(edge.t_us);
        self.bytes.add_edge(&edge, cost);
        if let Some(slot) = self.levels.get_mut(usize::from(edge.pin)) {
            *slot = Some(edge.level);
        }
        self.edges.push(edge);
        (self.edges.len() >= self.max_edges).then(|| self.close())
    }

    /// Records a gap in the open batch (it is sent with the next close).
    pub fn push_gap(&mut self, gap: Gap) {
        self.open_at(gap.to_us);
        self.bytes.add_gap();
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
            Err(at) => {
                self.bytes.add_rate_limited();
                self.rate_limited.insert(at, limited)
            }
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
        self.bytes.reset();
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
            format: self.bytes.format(),
        }
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;
