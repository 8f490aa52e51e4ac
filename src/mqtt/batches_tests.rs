//! Which batches go to the spool, in which order they come back, and what an acknowledgement
//! does to the spool.

use std::time::{Duration, Instant};

use super::*;
use crate::wire::decode_batch;

fn spool_cfg(rate: u32) -> SpoolConfig {
    SpoolConfig {
        enabled: true,
        replay_rate: rate,
        ..SpoolConfig::default()
    }
}

fn batch(seq: u64) -> Batch {
    Batch {
        run: 1,
        seq,
        ..Batch::default()
    }
}

/// Batches with a spool in `dir`, connected at `t0` (replay burst available).
fn spooled(dir: &std::path::Path, stats: &Stats, t0: Instant) -> Batches {
    let mut b = Batches::new("pi-01".into());
    b.reconfigure(dir.join("spool"), &spool_cfg(1000), stats, t0);
    assert!(b.has_spool());
    b
}

/// Replays everything the rate allows at `now`: (record, seq).
fn replay(b: &mut Batches, now: Instant) -> Vec<(RecordId, u64)> {
    let mut out = Vec::new();
    while let Some((id, payload)) = b.next_spooled(0, now) {
        out.push((id, decode_batch(&payload).unwrap().seq));
        b.spooled_sent();
    }
    out
}

#[test]
fn without_a_spool_batches_stay_in_memory_and_a_drop_puts_them_back_in_order() {
    let t0 = Instant::now();
    let stats = Stats::default();
    let mut b = Batches::new("pi-01".into());
    assert!(!b.spooling(false));
    for seq in 0..4 {
        b.accept(batch(seq), false, &stats, t0);
    }
    let (o0, b0, _) = b.next_live(t0).unwrap();
    let (o1, b1, payload) = b.next_live(t0).unwrap();
    assert_eq!(decode_batch(&payload).unwrap().seq, 1);
    b.lost(vec![(o0, b0), (o1, b1)], &stats, t0);
    let order: Vec<u64> = std::iter::from_fn(|| b.next_live(t0).map(|(_, b, _)| b.seq)).collect();
    assert_eq!(order, [0, 1, 2, 3]);
    assert_eq!(Stats::get(&stats.batches_spooled), 0);
}

#[test]
fn while_disconnected_every_batch_goes_to_the_spool_and_while_connected_none() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let stats = Stats::default();
    let mut b = spooled(dir.path(), &stats, t0);
    assert!(b.spooling(false) && !b.spooling(true));
    b.accept(batch(0), false, &stats, t0);
    b.accept(batch(1), true, &stats, t0);
    assert_eq!(Stats::get(&stats.batches_spooled), 1);
    assert_eq!(b.waiting(), 1);
}

#[test]
fn a_drop_spools_the_unacknowledged_then_the_waiting_and_replays_them_oldest_first() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let stats = Stats::default();
    let mut b = spooled(dir.path(), &stats, t0);
    b.accept(batch(0), false, &stats, t0); // spooled during an outage
    b.connected(t0);
    let early = replay(&mut b, t0);
    assert_eq!(early.iter().map(|r| r.1).collect::<Vec<_>>(), [0]);
    for seq in 1..4 {
        b.accept(batch(seq), true, &stats, t0);
    }
    let (o1, b1, _) = b.next_live(t0).unwrap();
    let (o2, b2, _) = b.next_live(t0).unwrap();
    b.lost(vec![(o1, b1), (o2, b2)], &stats, t0);
    assert_eq!(b.waiting(), 0, "the waiting batch 3 went to the spool too");
    assert_eq!(Stats::get(&stats.batches_spooled), 4);

    b.connected(t0);
    let replayed = replay(&mut b, t0);
    assert_eq!(
        replayed.iter().map(|r| r.1).collect::<Vec<_>>(),
        [0, 1, 2, 3],
        "the spooled batch in flight is handed out again, first"
    );
    for (id, _) in &replayed {
        b.spooled_acked(*id, &stats);
    }
    assert_eq!(Stats::get(&stats.batches_replayed), 4);
    assert_eq!(
        Stats::get(&stats.spool_pending),
        0,
        "acknowledged in the spool"
    );
    assert!(!b.backlog_left(0));
    assert!(b.backlog_left(1), "one still in flight");
}

#[test]
fn acknowledged_batches_are_not_replayed_after_a_restart() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let stats = Stats::default();
    let mut b = spooled(dir.path(), &stats, t0);
    for seq in 0..3 {
        b.accept(batch(seq), false, &stats, t0);
    }
    b.connected(t0);
    let replayed = replay(&mut b, t0);
    b.spooled_acked(replayed[0].0, &stats);
    assert_eq!(b.remaining(Vec::new(), vec![batch(3)], &stats, t0), 0);
    drop(b);
    let mut again = spooled(dir.path(), &stats, t0);
    again.connected(t0);
    let seqs: Vec<u64> = replay(&mut again, t0).into_iter().map(|r| r.1).collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[test]
fn at_shutdown_without_a_spool_everything_left_is_counted_lost() {
    let t0 = Instant::now();
    let stats = Stats::default();
    let mut b = Batches::new("pi-01".into());
    b.accept(batch(0), true, &stats, t0);
    assert_eq!(
        b.remaining(vec![(9, batch(9))], vec![batch(1)], &stats, t0),
        3
    );
}

#[test]
fn disabling_the_spool_keeps_batches_in_memory_again() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let stats = Stats::default();
    let mut b = spooled(dir.path(), &stats, t0);
    let off = SpoolConfig {
        enabled: false,
        ..spool_cfg(1)
    };
    b.reconfigure(dir.path().join("spool"), &off, &stats, t0);
    assert!(!b.has_spool() && !b.spooling(false));
    b.accept(batch(0), false, &stats, t0);
    assert_eq!(b.waiting(), 1);
}

#[test]
fn a_spool_that_cannot_open_is_retried_with_backoff_and_used_once_it_can() {
    let t0 = Instant::now();
    let stats = Stats::default();
    let dir = tempfile::tempdir().unwrap();
    // A file where the spool's directory should be: opening fails, as on a full disk.
    let blocker = dir.path().join("spool");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let mut b = Batches::new("pi-01".into());
    b.reconfigure(blocker.clone(), &spool_cfg(1000), &stats, t0);
    assert!(!b.has_spool());
    let h = stats.spool_health();
    assert_eq!(h.state, SpoolState::Degraded);
    assert!(h.reason.starts_with("cannot open"), "{}", h.reason);
    assert!(b.needs_tick(), "a pending retry keeps the ticker running");
    // Retried after 1 s, still failing; the next wait is 2 s.
    b.tick(&stats, t0 + Duration::from_millis(999));
    b.tick(&stats, t0 + Duration::from_secs(1));
    assert!(!b.has_spool());
    std::fs::remove_file(&blocker).unwrap();
    b.tick(&stats, t0 + Duration::from_millis(2900));
    assert!(!b.has_spool(), "not before the doubled wait");
    b.tick(&stats, t0 + Duration::from_secs(3));
    assert!(b.has_spool(), "opened once it can");
    assert_eq!(stats.spool_health().state, SpoolState::Ok);
    b.accept(batch(0), false, &stats, t0 + Duration::from_secs(3));
    assert_eq!(Stats::get(&stats.batches_spooled), 1);
}

#[test]
fn a_disabled_spool_is_reported_off() {
    let t0 = Instant::now();
    let stats = Stats::default();
    let dir = tempfile::tempdir().unwrap();
    let mut b = spooled(dir.path(), &stats, t0);
    assert_eq!(stats.spool_health().state, SpoolState::Ok);
    let off = SpoolConfig {
        enabled: false,
        ..spool_cfg(1000)
    };
    b.reconfigure(dir.path().join("spool"), &off, &stats, t0);
    assert_eq!(stats.spool_health().state, SpoolState::Off);
    assert!(!b.needs_tick());
}

#[test]
fn spooled_batches_keep_the_format_they_closed_in_whatever_comes_after() {
    use crate::edges::batch::BatchFormat;
    use crate::edges::Edge;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let stats = Stats::default();
    let mut b = spooled(dir.path(), &stats, t0);
    let with_edges = |seq, format| Batch {
        edges: vec![
            Edge {
                pin: 18,
                level: 1,
                t_us: 1_764_040_000_000_000 + seq,
                after_gap: false,
            },
            Edge {
                pin: 18,
                level: 0,
                t_us: 1_764_040_000_000_500 + seq,
                after_gap: true,
            },
        ],
        format,
        ..batch(seq)
    };
    // Closed before and after a switch to columnar, spooled during an outage, and one live
    // object batch in flight when the connection drops after it.
    b.accept(with_edges(0, BatchFormat::Json), false, &stats, t0);
    b.accept(with_edges(1, BatchFormat::Columnar), false, &stats, t0);
    b.accept(with_edges(2, BatchFormat::Json), true, &stats, t0);
    let (order, live, _) = b.next_live(t0).unwrap();
    b.lost(vec![(order, live)], &stats, t0);
    b.connected(t0);
    let mut got = Vec::new();
    while let Some((_, payload)) = b.next_spooled(0, t0) {
        got.push(decode_batch(&payload).unwrap());
        b.spooled_sent();
    }
    assert_eq!(
        got.iter().map(|p| (p.seq, p.v)).collect::<Vec<_>>(),
        [(0, 1), (1, 2), (2, 1)]
    );
    for p in &got {
        assert_eq!(
            p.edges,
            with_edges(p.seq, BatchFormat::Json).edges,
            "seq {}",
            p.seq
        );
    }
}
