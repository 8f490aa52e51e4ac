//! Unit tests of `batch`.

use super::*;
use proptest::prelude::*;

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
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
        edges: 0,
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

#[test]
fn a_new_format_closes_the_open_batch_in_the_old_one() {
    let mut b = Batcher::new(7, 10, 1_000_000);
    assert!(b.set_format(BatchFormat::Json).is_none(), "no change");
    b.push(edge(1, 1, 10));
    let open = b.set_format(BatchFormat::Columnar).expect("closed");
    assert_eq!(
        (open.seq, open.format, open.edges.len()),
        (0, BatchFormat::Json, 1)
    );
    assert!(b.set_format(BatchFormat::Columnar).is_none());
    assert!(b.push(edge(1, 0, 20)).is_none());
    let next = b.flush().expect("open batch");
    assert_eq!((next.seq, next.format), (1, BatchFormat::Columnar));
    assert!(b.set_format(BatchFormat::Json).is_none(), "nothing open");
}

#[test]
fn columnar_batches_take_more_edges_under_the_same_byte_limit() {
    let fill = |format| {
        let mut b = Batcher::new(7, 65_536, u64::MAX);
        let _ = b.set_format(format);
        let _ = b.set_max_bytes(4096);
        (0..10_000u64)
            .find_map(|i| b.push(edge(18, (i % 2) as u8, 1_764_040_000_000_000 + 500 * i)))
            .map(|batch| batch.edges.len())
    };
    let json = fill(BatchFormat::Json).expect("closed by size");
    let columnar = fill(BatchFormat::Columnar).expect("closed by size");
    assert_eq!(json, (4096 - HEADER_MAX_BYTES) / EDGE_MAX_BYTES);
    // 4 bytes per 500 µs delta after the run's first edge.
    assert_eq!(
        columnar,
        1 + (4096 - HEADER_MAX_BYTES - super::super::size::RUN_MAX_BYTES) / 4
    );
}
