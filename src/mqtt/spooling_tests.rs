//! The replay rate: a burst of one second's worth at a connect, then one batch per 1/rate.

use std::time::{Duration, Instant};

use super::*;

fn open(dir: &std::path::Path, rate: u32, t0: Instant) -> (Backlog, Stats) {
    let stats = Stats::default();
    let cfg = SpoolConfig {
        enabled: true,
        replay_rate: rate,
        ..SpoolConfig::default()
    };
    let b = Backlog::open(dir.to_path_buf(), &cfg, &stats, t0).unwrap();
    (b, stats)
}

#[test]
fn nothing_is_ahead_of_live_batches_without_a_backlog() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut b, _) = open(dir.path(), 5, t0);
    b.connected(t0);
    assert!(!b.ahead(t0));
    assert!(b.next(t0).is_none());
}

#[test]
fn a_connect_allows_a_burst_and_then_the_rate() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut b, stats) = open(dir.path(), 4, t0);
    for i in 0..10u8 {
        b.append(&[b'{', b'0' + i, b'}'], &stats, t0);
    }
    assert_eq!(Stats::get(&stats.batches_spooled), 10);
    // Before the connect no tokens are left from the open.
    assert!(!b.ahead(t0));
    b.connected(t0);
    let mut taken = Vec::new();
    while let Some((_, payload)) = b.next(t0) {
        taken.push(payload);
        b.sent();
    }
    assert_eq!(
        taken,
        [b"{0}", b"{1}", b"{2}", b"{3}"],
        "oldest first, one second's worth"
    );
    assert!(!b.ahead(t0 + Duration::from_millis(200)));
    assert!(b.ahead(t0 + Duration::from_millis(300)));
    assert_eq!(b.unsent(), 6);
}

#[test]
fn a_record_not_taken_by_the_client_is_offered_again_without_a_new_token() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut b, stats) = open(dir.path(), 1, t0);
    b.append(b"{a}", &stats, t0);
    b.append(b"{b}", &stats, t0);
    b.connected(t0);
    let (id, first) = b.next(t0).unwrap();
    assert_eq!(b.next(t0), Some((id, first)), "set aside, not read twice");
    b.sent();
    assert!(b.next(t0).is_none(), "the rate's one token is spent");
    b.rewind();
    assert_eq!(b.unsent(), 2, "a drop hands the unacknowledged out again");
}

#[test]
fn a_lower_rate_caps_the_saved_tokens() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut b, stats) = open(dir.path(), 10, t0);
    for _ in 0..5 {
        b.append(b"{}", &stats, t0);
    }
    b.connected(t0);
    b.set_rate(2);
    let mut n = 0;
    while b.next(t0).is_some() {
        b.sent();
        n += 1;
    }
    assert_eq!(n, 2);
    b.set_rate(0);
    assert!(
        b.ahead(t0 + Duration::from_secs(1)),
        "a rate of 0 means 1 per second"
    );
}
