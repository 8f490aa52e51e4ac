//! Store and forward against a real mosquitto: a 30 s broker outage at 10,000 edges/s loses
//! nothing; a `kill -9` during an outage loses nothing that was spooled, and a torn record is cut
//! off and reported; a full spool drops its oldest batches and counts them exactly; a short drop
//! resumes the persistent session.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use support::agent::{capture_edges, logged, AgentProcess};
use support::remote::START_US;
use support::{free_port, publish, Mosquitto, Msg, Subscriber, TcpProxy};

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
struct Edge {
    t_us: u64,
    pin: u8,
    level: u8,
}

#[derive(Debug, Deserialize)]
struct Batch {
    run: u64,
    seq: u64,
    edges: Vec<Edge>,
}

/// Two 5 kHz square waves (10,000 edges/s together) on GPIO 20 and 21, `seconds` long, silent
/// while `quiet` (µs of signal time).
fn signal(dir: &Path, seconds: u64, quiet: std::ops::Range<u64>) -> PathBuf {
    use edgetap::vcd::{TraceBuilder, FS_PER_US};
    let end_us = seconds * 1_000_000;
    let mut b = TraceBuilder::new();
    b.initial(20, 0).initial(21, 0);
    let mut level = 0;
    for t in (100..end_us).step_by(100).filter(|t| !quiet.contains(t)) {
        level ^= 1;
        b.change_us(t, 20, level).change_us(t + 50, 21, level);
    }
    b.end_at(u128::from(end_us) * FS_PER_US);
    let path = dir.join("square.vcd");
    let file = std::fs::File::create(&path).unwrap();
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).unwrap();
    path
}

/// An agent config replaying `signal` in real time, once, from [`START_US`].
fn config(dir: &Path, device: &str, signal: &Path, port: u16, extra: &str) -> PathBuf {
    let path = dir.join(format!("{device}.toml"));
    let text = format!(
        r#"device_id = "{device}"
state_dir = "{state}"
[sampler]
period_us = 5
block_samples = 1000
[sampler.replay]
signal = "{signal}"
realtime = true
start_us = {START_US}
[[inputs]]
pin = 20
[[inputs]]
pin = 21
[batch]
max_edges = 512
max_age_ms = 50
[homeassistant]
enabled = false
[mqtt]
port = {port}
keep_alive_s = 5
reconnect_min_ms = 50
reconnect_max_ms = 500
{extra}
"#,
        state = dir.join(format!("{device}-state")).display(),
        signal = signal.display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The edges `edgetap capture` finds with `config`: what the agent must deliver.
fn expected(config: &Path) -> BTreeSet<Edge> {
    let args = ["--set", "sampler.replay.realtime=false"];
    capture_edges::<Edge>(config, &args).0.into_iter().collect()
}

/// Batches of `device` by (run, seq); a repeated (run, seq) must carry the same edges.
fn by_seq(msgs: &[Msg], device: &str) -> BTreeMap<(u64, u64), Vec<Edge>> {
    let topic = format!("edgetap/{device}/edges");
    let mut out: BTreeMap<(u64, u64), Vec<Edge>> = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.topic == topic) {
        let b: Batch = serde_json::from_slice(&m.payload).expect("batch JSON");
        if let Some(seen) = out.get(&(b.run, b.seq)) {
            assert_eq!(seen, &b.edges, "a duplicate is a whole, identical batch");
        }
        out.insert((b.run, b.seq), b.edges);
    }
    out
}

/// `key=N` from the agent's closing log line.
fn stopped(stderr: &str, key: &str) -> u64 {
    logged(stderr, "agent stopped", key)
}

/// Collects messages until the agent has exited and nothing more arrives for a second.
fn collect_until_exit(sub: &Subscriber, agent: &mut AgentProcess, limit: Duration) -> Vec<Msg> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while agent.is_running() && Instant::now() < deadline {
        got.extend(sub.collect_until(|_| false, Duration::from_millis(500)));
    }
    got.extend(sub.collect_until(|_| false, Duration::from_secs(1)));
    got
}

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

/// Segment files of a spool directory, oldest first.
fn segments(spool: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

/// The (run, seq) of every batch a copy of `spool` would replay.
fn spooled(spool: &Path, scratch: &Path) -> BTreeSet<(u64, u64)> {
    std::fs::create_dir_all(scratch).unwrap();
    for f in std::fs::read_dir(spool).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, scratch.join(f.file_name().unwrap())).unwrap();
    }
    let opts = edgetap::spool::SpoolOptions::new(scratch, 64 << 20);
    let (mut s, _) = edgetap::spool::Spool::open(opts).unwrap();
    let mut buf = Vec::new();
    let mut out = BTreeSet::new();
    while s.next(&mut buf).unwrap().is_some() {
        let b: Batch = serde_json::from_slice(&buf).unwrap();
        out.insert((b.run, b.seq));
    }
    out
}

#[test]
fn kill_9_during_an_outage_loses_nothing_spooled_and_a_torn_record_is_cut() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = signal(dir.path(), 30, 0..0);
    let proxy_port = free_port();
    let mut proxy = TcpProxy::start(proxy_port, broker.port());
    let config = config(dir.path(), "sf-kill", &signal, proxy_port, "");
    let sub = Subscriber::connect(broker.port(), "edgetap/sf-kill/edges");

    let agent = AgentProcess::start(&config, &[]);
    sub.wait_for(|_| true, Duration::from_secs(15))
        .expect("edges flow before the outage");
    proxy.stop();
    std::thread::sleep(Duration::from_secs(3));
    agent.signal("KILL");
    let _ = agent.wait(Duration::from_secs(5));

    // Tear the last record: cut its last 3 bytes, as a power loss mid-write would.
    let spool = dir.path().join("sf-kill-state/spool");
    let last = segments(&spool).pop().expect("a segment was written");
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let want = spooled(&spool, &dir.path().join("copy"));
    assert!(want.len() >= 30, "3 s of outage spooled: {}", want.len());

    let before = sub.drain();
    let _proxy = TcpProxy::start(proxy_port, broker.port());
    let mut again = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    let run1 = want.iter().next().map(|(r, _)| *r).unwrap();
    let mut got = before;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        got.extend(sub.collect_until(|_| false, Duration::from_millis(500)));
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
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    // Silent from 0.5 s to 3 s: the outage starts with nothing in flight, so every batch the
    // broker misses went through the spool, and the count can be checked exactly.
    let signal = signal(dir.path(), 10, 500_000..3_000_000);
    let proxy_port = free_port();
    let mut proxy = TcpProxy::start(proxy_port, broker.port());
    let extra = "[spool]\nmax_bytes = 262144\n";
    let config = config(dir.path(), "sf-full", &signal, proxy_port, extra);
    let first_burst = expected(&config)
        .iter()
        .filter(|e| e.t_us < START_US + 500_000)
        .count();
    let sub = Subscriber::connect(broker.port(), "edgetap/sf-full/edges");

    let mut agent = AgentProcess::start(&config, &[]);
    let mut seen = 0;
    let mut got = sub.collect_until(
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
    proxy.stop();
    std::thread::sleep(Duration::from_secs(5));
    let _proxy = TcpProxy::start(proxy_port, broker.port());
    got.extend(collect_until_exit(
        &sub,
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
    let spool_log: Vec<&str> = exit
        .stderr
        .lines()
        .filter(|l| l.contains("spool"))
        .collect();
    assert_eq!(
        missing.len() as u64,
        dropped,
        "every missing batch is counted, no more: missing {missing:?}, last seq {last}; {spool_log:#?}"
    );
}

#[test]
fn a_patch_sent_during_a_short_drop_arrives_through_the_persistent_session() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = signal(dir.path(), 2, 0..0);
    let proxy_port = free_port();
    let mut proxy = TcpProxy::start(proxy_port, broker.port());
    let config = config(dir.path(), "sf-session", &signal, proxy_port, "");
    let sub = Subscriber::connect(broker.port(), "edgetap/sf-session/#");

    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    sub.wait_for(|m| m.topic.ends_with("/edges"), Duration::from_secs(15))
        .expect("edges flow");
    std::thread::sleep(Duration::from_millis(500));
    proxy.stop();
    // Not retained: only the broker's session for the agent can keep it.
    publish(
        broker.port(),
        "edgetap/sf-session/config/set",
        br#"{"_request":"while-away","batch":{"max_edges":100}}"#,
        false,
    );
    let _proxy = TcpProxy::start(proxy_port, broker.port());
    let r = sub
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
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = signal(dir.path(), 8, 0..0);
    let proxy_port = free_port();
    let mut proxy = TcpProxy::start(proxy_port, broker.port());
    let config = config(dir.path(), "sf-order", &signal, proxy_port, "");
    let sub = Subscriber::connect(broker.port(), "edgetap/sf-order/edges");

    let mut agent = AgentProcess::start(&config, &[]);
    let mut got = sub.collect_until(|m| m.len() >= 10, Duration::from_secs(15));
    proxy.stop();
    // 2 s at 20 batches/s: a backlog well inside one second's replay burst (500).
    std::thread::sleep(Duration::from_secs(2));
    let _proxy = TcpProxy::start(proxy_port, broker.port());
    got.extend(collect_until_exit(
        &sub,
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
