//! The priority order of publishes, the replay rate between spooled and live batches, and what
//! happens when the client cannot take a message.

use std::time::{Duration, Instant};

use crate::config::SpoolConfig;
use crate::edges::PinLevel;
use crate::mqtt::message::Origin;
use crate::mqtt::options::REQUEST_CAPACITY;
use crate::mqtt::publisher::Publisher;
use crate::mqtt::reporting::Reporter;
use crate::mqtt::testing::{batch, connack, drain, drop_connection, publisher, written, Sent};
use crate::procstat::ProcessSample;
use crate::queue::Outgoing;
use crate::wire::device::tests::description;

fn kinds(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(|s| s.kind()).collect()
}

const NO_PROCESS: ProcessSample = ProcessSample {
    cpu: None,
    rss_bytes: None,
};

fn with_spool(p: &mut Publisher, dir: &std::path::Path, rate: u32, t0: Instant) {
    let cfg = SpoolConfig {
        enabled: true,
        replay_rate: rate,
        ..SpoolConfig::default()
    };
    p.reconfigure_spool(dir.join("spool"), &cfg, t0);
}

/// Spools batches `seqs` through an outage.
fn spool_during_outage(p: &mut Publisher, seqs: std::ops::Range<u64>, t0: Instant) {
    connack(p, false, t0);
    drain(p, t0);
    drop_connection(p, t0);
    for seq in seqs {
        p.accept(Outgoing::Batch(batch(seq)), t0);
    }
}

#[test]
fn every_part_is_asked_in_the_priority_order() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut p, stats) = publisher(t0);
    with_spool(&mut p, dir.path(), 10, t0);
    spool_during_outage(&mut p, 0..1, t0);
    let mut d = description();
    d.inventory.homeassistant.enabled = false;
    p.describe(d);
    p.set_reporter(Reporter::new(
        "pi-01".into(),
        7,
        stats.snapshot(),
        NO_PROCESS,
        t0,
    ));
    p.set_config("{}".into());
    p.push_result("ok".into());
    p.accept(Outgoing::Levels(vec![PinLevel { pin: 17, level: 0 }]), t0);
    p.accept(Outgoing::Removed(vec![5]), t0);
    connack(&mut p, false, t0);
    p.accept(Outgoing::Batch(batch(1)), t0);
    p.report_stats(NO_PROCESS, 1, t0 + Duration::from_secs(10));
    let sent = drain(&mut p, t0);
    assert_eq!(
        kinds(&sent),
        [
            "status:online",
            "config",
            "announce",
            "result",
            "clear:edgetap/pi-01/gpio/5",
            "stats",
            "spooled:0",
            "live:1",
            "gpio:17=0",
        ]
    );
    assert!(!sent[5].retain && sent[5].topic == "edgetap/pi-01/stats");
    assert!(drain(&mut p, t0).is_empty());
}

#[test]
fn a_backlog_within_the_burst_goes_out_first_and_a_longer_one_at_the_replay_rate() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = publisher(t0);
    with_spool(&mut p, dir.path(), 2, t0);
    spool_during_outage(&mut p, 0..5, t0);
    connack(&mut p, false, t0);
    for seq in 5..8 {
        p.accept(Outgoing::Batch(batch(seq)), t0);
    }
    let sent = drain(&mut p, t0);
    assert_eq!(
        kinds(&sent),
        [
            "status:online",
            "spooled:0",
            "spooled:1",
            "live:5",
            "live:6",
            "live:7"
        ],
        "a one-second burst of the rate, then live batches are not starved"
    );
    assert!(drain(&mut p, t0 + Duration::from_millis(400)).is_empty());
    let later = drain(&mut p, t0 + Duration::from_millis(600));
    assert_eq!(kinds(&later), ["spooled:2"], "one token per 1/rate");
    let much_later = drain(&mut p, t0 + Duration::from_secs(60));
    assert_eq!(
        kinds(&much_later),
        ["spooled:3", "spooled:4"],
        "tokens saved up to one second's worth, no more"
    );
}

#[test]
fn live_batches_wait_behind_a_short_backlog_so_seq_stays_in_order() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut p, _) = publisher(t0);
    with_spool(&mut p, dir.path(), 100, t0);
    spool_during_outage(&mut p, 0..3, t0);
    connack(&mut p, false, t0);
    p.accept(Outgoing::Batch(batch(3)), t0);
    let sent = drain(&mut p, t0);
    let seqs: Vec<u64> = sent[1..].iter().map(Sent::seq).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
}

#[test]
fn the_client_channel_is_never_given_more_than_its_capacity() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    connack(&mut p, false, t0);
    for seq in 0..(REQUEST_CAPACITY as u64 + 5) {
        p.accept(Outgoing::Batch(batch(seq)), t0);
    }
    let sent = drain(&mut p, t0);
    assert_eq!(sent.len(), REQUEST_CAPACITY, "online and 31 batches");
    written(&mut p, 1..=4, t0);
    assert_eq!(
        drain(&mut p, t0).len(),
        4,
        "room again once rumqttc took some"
    );
}

#[test]
fn a_refused_message_is_offered_again_first() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    connack(&mut p, false, t0);
    drain(&mut p, t0);
    p.accept(Outgoing::Batch(batch(0)), t0);
    p.accept(Outgoing::Batch(batch(1)), t0);
    p.push_result("r".into());
    let m = p.next_message(t0).unwrap();
    assert_eq!(m.origin, Origin::Result);
    p.refused(m.origin);
    let m = p.next_message(t0).unwrap();
    assert_eq!(m.origin, Origin::Result, "still due");
    p.sent(m.origin, t0);
    let m = p.next_message(t0).unwrap();
    assert!(matches!(&m.origin, Origin::Live { batch, .. } if batch.seq == 0));
    p.refused(m.origin);
    let sent = drain(&mut p, t0);
    let seqs: Vec<u64> = sent.iter().map(Sent::seq).collect();
    assert_eq!(seqs, [0, 1], "the refused batch keeps its place");
}

#[test]
fn a_stats_report_made_while_disconnected_is_skipped() {
    let t0 = Instant::now();
    let (mut p, stats) = publisher(t0);
    p.set_reporter(Reporter::new(
        "pi-01".into(),
        7,
        stats.snapshot(),
        NO_PROCESS,
        t0,
    ));
    p.report_stats(NO_PROCESS, 1, t0 + Duration::from_secs(10));
    connack(&mut p, false, t0);
    assert_eq!(kinds(&drain(&mut p, t0)), ["status:online"]);
    p.report_stats(NO_PROCESS, 2, t0 + Duration::from_secs(20));
    p.report_stats(NO_PROCESS, 3, t0 + Duration::from_secs(30));
    let sent = drain(&mut p, t0);
    assert_eq!(kinds(&sent), ["stats"], "one report, the latest");
    let v: serde_json::Value = serde_json::from_slice(&sent[0].payload).unwrap();
    assert_eq!(v["t_us"], 3);
}
