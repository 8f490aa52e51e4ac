//! Unit tests of `stats`.

use super::*;

#[test]
fn the_summary_line_counts_every_drop_and_the_rate_limit() {
    let before = Snapshot::default();
    let mut now = before.clone();
    now.edges_per_pin[18] = 4000;
    now.batches_sent = 1043;
    now.batches_spooled = 7;
    now.batches_dropped = 1;
    now.spool_dropped = 2;
    now.spool_errors = 3;
    now.rate_limited = 12;
    now.connects = 2;
    let rates = Rates::between(&before, &now, Duration::from_secs(2));
    assert_eq!(
        summary_line(&[17, 18], &rates, &now),
        "edges/s: gpio17=0.0 gpio18=2000.0 | batches sent 1043 spooled 7 dropped 6 \
         | rate-limited edges 12 | broker connects 2"
    );
}

#[test]
fn snapshot_reads_every_counter() {
    let s = Stats::default();
    Stats::add(&s.samples, 7);
    Stats::add(&s.edges_per_pin[18], 3);
    Stats::add(&s.connects, 2);
    Stats::set(&s.spool_bytes, 99);
    let snap = s.snapshot();
    assert_eq!(snap.samples, 7);
    assert_eq!(snap.edges_per_pin[18], 3);
    assert_eq!(snap.edges_total(), 3);
    assert_eq!(snap.connects, 2);
    assert_eq!(snap.spool_bytes, 99);
}

#[test]
fn rates_use_the_elapsed_time() {
    let before = Snapshot::default();
    let mut after = before.clone();
    after.samples = 300_000;
    after.edges_per_pin[17] = 3;
    after.edges_per_pin[18] = 3000;
    let r = Rates::between(&before, &after, Duration::from_millis(1500));
    assert_eq!(r.samples_per_s, 200_000.0);
    assert_eq!(r.pin(18), 2000.0);
    assert_eq!(r.pin(17), 2.0);
    assert_eq!(r.edges_per_s, 2002.0);
    assert_eq!(r.pin(200), 0.0);
}

#[test]
fn rates_without_elapsed_time_or_with_a_counter_going_down_are_zero() {
    let mut before = Snapshot::default();
    let mut after = before.clone();
    after.samples = 10;
    assert_eq!(
        Rates::between(&before, &after, Duration::ZERO).samples_per_s,
        0.0
    );
    before.samples = 20;
    let r = Rates::between(&before, &after, Duration::from_secs(1));
    assert_eq!(r.samples_per_s, 0.0);
}

#[test]
fn the_spool_state_counts_changes_not_repeats() {
    let s = Stats::default();
    let before = Stats::get(&s.spool_state_changes);
    s.set_spool_health(SpoolState::Ok, "");
    s.set_spool_health(SpoolState::Ok, "");
    assert_eq!(Stats::get(&s.spool_state_changes), before + 1);
    s.set_spool_health(SpoolState::Degraded, "cannot open: x");
    s.set_spool_health(SpoolState::Degraded, "cannot open: y");
    assert_eq!(Stats::get(&s.spool_state_changes), before + 3);
    assert_eq!(s.spool_health().reason, "cannot open: y");
}
