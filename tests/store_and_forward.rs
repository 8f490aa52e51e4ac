//! Store and forward against a real mosquitto: a 30 s broker outage at 10,000 edges/s loses
//! nothing; a `kill -9` during an outage loses nothing that was spooled, and a torn record is cut
//! off and reported; a full spool drops its oldest batches and counts them exactly; a short drop
//! resumes the persistent session; a short outage arrives in seq order.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use support::agent::AgentProcess;
use support::outage::{
    by_seq, collect_until_exit, config, expected, segments, signal, spooled, stopped, Batch, Edge,
    ProxiedRig,
};
use support::remote::START_US;
use support::{publish, Mosquitto, Subscriber};

#[test]
fn a_30_s_broker_outage_at_10000_edges_per_s_loses_no_edge() {
    let mut broker = Mosquitto::start_persistent();
    let dir = tempfile::tempdir().unwrap();
    let signal = signal(dir.path(), 45, 0..0);
    let config = config(dir.path(), "sf-outage", &signal, broker.port(), "");
    let want = expected(&config);
    assert!(want.len() >= 450_000, "{} edges", want.len());

    let sub = Subscriber::connect_persistent(broker.port(), "edgetap/sf-outage/edges", "sf-sub");
    let mut agent = AgentProcess::start(&config, &[]);
    let mut got = sub.collect_until(|m| m.len() >= 20, Duration::from_secs(15));
    assert!(got.len() >= 20, "edges flow before the outage");

    broker.stop_gracefully();
    std::thread::sleep(Duration::from_secs(30));
    broker.start_again();

    got.extend(collect_until_exit(
        &sub,
        &mut agent,
        Duration::from_secs(60),
    ));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(
        stopped(&exit.stderr, "batches_spooled") > 100,
        "the outage went through the spool"
    );
    assert_eq!(stopped(&exit.stderr, "spool_dropped"), 0);

    let batches = by_seq(&got, "sf-outage");
    let seqs: Vec<u64> = batches.keys().map(|(_, s)| *s).collect();
    assert_eq!(
        batches
            .keys()
            .map(|(r, _)| r)
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
    assert_eq!(
        seqs,
        (0..seqs.len() as u64).collect::<Vec<_>>(),
        "no batch missing"
    );
    let delivered: BTreeSet<Edge> = batches.into_values().flatten().collect();
    assert_eq!(delivered.len(), want.len(), "every edge, once");
    assert!(
        delivered == want,
        "the delivered edges are the signal's edges"
    );
}

#[test]
fn kill_9_during_an_outage_loses_nothing_spooled_and_a_torn_record_is_cut() {
    let mut rig = ProxiedRig::new("sf-kill", 30, 0..0, "", "edges");
    let agent = AgentProcess::start(&rig.config, &[]);
    rig.sub
        .wait_for(|_| true, Duration::from_secs(15))
        .expect("edges flow before the outage");
    rig.cut();
    std::thread::sleep(Duration::from_secs(3));
    agent.signal("KILL");
    let _ = agent.wait(Duration::from_secs(5));

    // Tear the last record: cut its last 3 bytes, as a power loss mid-write would.
    let spool = rig.dir.path().join("sf-kill-state/spool");
    let last = segments(&spool).pop().expect("a segment was written");
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let want = spooled(&spool, &rig.dir.path().join("copy"));
    assert!(want.len() >= 30, "3 s of outage spooled: {}", want.len());

    let before = rig.sub.drain();
    rig.restore();
    let mut again = AgentProcess::start(&rig.config, &["--set", "sampler.replay.loop=true"]);
    let run1 = want.iter().next().map(|(r, _)| *r).unwrap();
    let mut got = before;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        got.extend(rig.sub.collect_until(|_| false, Duration::from_millis(500)));
        let have: BTreeSet<(u64, u64)> = by_seq(&got, "sf-kill").into_keys().collect();
        if want.is_subset(&have) {
            break;
        }
    }
    assert!(again.is_running(), "a torn record is not fatal");
    again.signal("TERM");
    let exit = again.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    let have: BTreeSet<(u64, u64)> = by_seq(&got, "sf-kill").into_keys().collect();
    let missing: Vec<_> = want.difference(&have).collect();
    assert!(
        missing.is_empty(),
        "spooled batches not delivered: {missing:?}"
    );
    assert!(
        have.iter().any(|(r, _)| *r != run1),
        "the new run publishes too"
    );
    assert_eq!(stopped(&exit.stderr, "spool_torn"), 1, "{}", exit.stderr);
    assert!(
        exit.stderr.contains("torn") || exit.stderr.contains("cut"),
        "the cut is logged: {}",
        exit.stderr
    );
}

#[test]
fn a_full_spool_drops_its_oldest_batches_and_counts_them_exactly() {
    // Silent from 0.5 s to 3 s: the outage starts with nothing in flight, so every batch the
    // broker misses went through the spool, and the count can be checked exactly.
    let extra = "[spool]\nmax_bytes = 262144\n";
    let mut rig = ProxiedRig::new("sf-full", 10, 500_000..3_000_000, extra, "edges");
    let first_burst = expected(&rig.config)
        .iter()
        .filter(|e| e.t_us < START_US + 500_000)
        .count();

    let mut agent = AgentProcess::start(&rig.config, &[]);
    let mut seen = 0;
    let mut got = rig.sub.collect_until(
        |m| {
            if let Some(last) = m.last() {
                seen += serde_json::from_slice::<Batch>(&last.payload)
                    .unwrap()
                    .edges
                    .len();
            }
            seen >= first_burst
        },
        Duration::from_secs(15),
    );
    assert_eq!(
        seen, first_burst,
        "the first burst is delivered before the outage"
    );
    rig.cut();
    std::thread::sleep(Duration::from_secs(5));
    rig.restore();
    got.extend(collect_until_exit(
        &rig.sub,
        &mut agent,
        Duration::from_secs(30),
    ));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);

    let batches = by_seq(&got, "sf-full");
    let last = batches.keys().map(|(_, s)| *s).max().unwrap();
    let missing: Vec<u64> = (0..=last)
        .filter(|s| !batches.keys().any(|(_, k)| k == s))
        .collect();
    let dropped = stopped(&exit.stderr, "spool_dropped");
    assert!(dropped > 0, "5 s at 10,000 edges/s overflow 256 KiB");
    assert_eq!(stopped(&exit.stderr, "batches_dropped"), 0);
    let pending = stopped(&exit.stderr, "spool_pending");
    let spool_log: Vec<&str> = exit
        .stderr
        .lines()
        .filter(|l| l.contains("spool"))
        .collect();
    assert_eq!(
        missing.len() as u64,
        dropped,
        "every missing batch is counted, no more: missing {missing:?}, last seq {last}, \
         still spooled at exit {pending}; {spool_log:#?}"
    );
}

#[test]
fn a_patch_sent_during_a_short_drop_arrives_through_the_persistent_session() {
    let mut rig = ProxiedRig::new("sf-session", 2, 0..0, "", "#");
    let mut agent = AgentProcess::start(&rig.config, &["--set", "sampler.replay.loop=true"]);
    rig.sub
        .wait_for(|m| m.topic.ends_with("/edges"), Duration::from_secs(15))
        .expect("edges flow");
    std::thread::sleep(Duration::from_millis(500));
    rig.cut();
    // Not retained: only the broker's session for the agent can keep it.
    publish(
        rig.broker.port(),
        "edgetap/sf-session/config/set",
        br#"{"_request":"while-away","batch":{"max_edges":100}}"#,
        false,
    );
    rig.restore();
    let r = rig
        .sub
        .wait_for(
            |m| m.topic.ends_with("/config/result"),
            Duration::from_secs(15),
        )
        .expect("the patch sent while away is answered");
    let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    assert_eq!(v["request"], "while-away");
    assert_eq!(v["ok"], true);
    assert!(agent.is_running());
    agent.signal("TERM");
    assert!(agent.wait(Duration::from_secs(15)).status.success());
}

#[test]
fn a_short_outage_is_replayed_ahead_of_live_batches_so_seq_arrives_in_order() {
    let mut rig = ProxiedRig::new("sf-order", 8, 0..0, "", "edges");
    let mut agent = AgentProcess::start(&rig.config, &[]);
    let mut got = rig
        .sub
        .collect_until(|m| m.len() >= 10, Duration::from_secs(15));
    rig.cut();
    // 2 s at 20 batches/s: a backlog well inside one second's replay burst (500).
    std::thread::sleep(Duration::from_secs(2));
    rig.restore();
    got.extend(collect_until_exit(
        &rig.sub,
        &mut agent,
        Duration::from_secs(30),
    ));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(
        stopped(&exit.stderr, "batches_spooled") > 10,
        "{}",
        exit.stderr
    );

    // First arrivals only (a resent batch is a whole duplicate), in arrival order.
    let mut seen = BTreeSet::new();
    let order: Vec<u64> = got
        .iter()
        .map(|m| serde_json::from_slice::<Batch>(&m.payload).unwrap().seq)
        .filter(|seq| seen.insert(*seq))
        .collect();
    if let Some(w) = order.windows(2).find(|w| w[0] > w[1]) {
        panic!("batch {} arrived before batch {}", w[0], w[1]);
    }
    assert_eq!(
        order,
        (0..order.len() as u64).collect::<Vec<_>>(),
        "none missing"
    );
}
