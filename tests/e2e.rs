//! End to end against a real mosquitto: replay a VCD through the agent binary, collect what it
//! publishes, and check every edge, contiguous `seq`, retained status and gpio topics, and
//! `offline` after shutdown.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::agent::{capture_edges, demo_signal, AgentProcess, Exit};
use support::batch::{Batch, Edge};
use support::{free_port, Mosquitto, Msg, Subscriber};

const START_US: u64 = 1_764_040_000_000_000;

fn agent_config(dir: &Path, signal: &Path, port: u16, realtime: bool, looping: bool) -> PathBuf {
    let path = dir.join("agent.toml");
    let text = format!(
        r#"device_id = "e2e-1"
state_dir = "{}"
[sampler]
backend = "replay"
period_us = 5
block_samples = 500
[sampler.replay]
signal = "{}"
realtime = {realtime}
loop = {looping}
start_us = {START_US}
[[inputs]]
pin = 17
glitch_us = 1000
[[inputs]]
pin = 18
[[inputs]]
pin = 27
lockout_us = 50000
[batch]
max_edges = 64
max_age_ms = 10
queue_batches = 100000
[mqtt]
host = "127.0.0.1"
port = {port}
qos = 1
keep_alive_s = 5
reconnect_min_ms = 50
reconnect_max_ms = 400
"#,
        dir.join("state").display(),
        signal.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The edges `edgetap capture` finds with the same config: what the agent must publish.
fn captured(config: &Path) -> Vec<Edge> {
    capture_edges(config, &[]).0
}

fn batches(msgs: &[Msg]) -> Vec<Batch> {
    msgs.iter()
        .filter(|m| m.topic == "edgetap/e2e-1/edges")
        .map(|m| serde_json::from_slice(&m.payload).expect("batch JSON"))
        .collect()
}

fn is_offline(m: &Msg) -> bool {
    m.topic == "edgetap/e2e-1/status" && m.payload == b"offline"
}

#[test]
fn replayed_signal_arrives_complete_in_order_with_contiguous_seq() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = agent_config(dir.path(), &signal, broker.port(), false, false);
    let expected = captured(&config);
    assert!(
        expected.len() > 3000,
        "demo signal too quiet: {}",
        expected.len()
    );

    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let agent = AgentProcess::start(&config, &[]);
    let exit = agent.wait(Duration::from_secs(60));
    assert!(exit.status.success(), "agent failed:\n{}", exit.stderr);
    let msgs = sub.collect_until(
        |m| m.last().is_some_and(is_offline),
        Duration::from_secs(10),
    );
    assert!(msgs.last().is_some_and(is_offline), "no offline at the end");

    // Status: online first, offline last.
    let statuses: Vec<String> = msgs
        .iter()
        .filter(|m| m.topic.ends_with("/status"))
        .map(Msg::text)
        .collect();
    assert_eq!(statuses.first().map(String::as_str), Some("online"));

    // Batches: one run, seq 0..n without holes, schema fields right, every edge exactly once.
    let got = batches(&msgs);
    assert!(got.len() >= expected.len() / 64, "{} batches", got.len());
    let run = got[0].run;
    for (i, b) in got.iter().enumerate() {
        assert_eq!(
            (b.v, b.device.as_str(), b.run, b.seq),
            (1, "e2e-1", run, i as u64)
        );
        assert!(!b.edges.is_empty() && b.edges.len() <= 64);
    }
    let published: Vec<Edge> = got.into_iter().flat_map(|b| b.edges).collect();
    assert_eq!(published.len(), expected.len());
    // Batches are in time order per pin; `capture` merges the pins into one time order (a
    // glitch-filtered pin's edges come late): the same edges, each exactly once.
    for pin in [17u8, 18, 27] {
        let of = |v: &[Edge]| {
            v.iter()
                .filter(|e| e.pin == pin)
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(of(&published), of(&expected), "gpio{pin}");
    }
    assert!(published.iter().all(|e| e.t_us >= START_US));

    // gpio topics: the last published level of each pin is its final level.
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.topic.contains("/gpio/")) {
        last.insert(m.topic.clone(), m.text());
    }
    for pin in [17u8, 18, 27] {
        let level = expected
            .iter()
            .rev()
            .find(|e| e.pin == pin)
            .map(|e| e.level);
        let topic = format!("edgetap/e2e-1/gpio/{pin}");
        let shown = last.get(&topic).unwrap_or_else(|| panic!("no {topic}"));
        if let Some(level) = level {
            assert_eq!(shown, if level == 1 { "ON" } else { "OFF" }, "{topic}");
        }
    }

    // Retained: a subscriber arriving after the agent left sees offline, the gpio levels, the
    // config in force and the device info.
    let late = Subscriber::connect(broker.port(), "edgetap/#");
    let retained = late.collect_until(|m| m.len() >= 6, Duration::from_secs(5));
    for topic in ["edgetap/e2e-1/config", "edgetap/e2e-1/info"] {
        assert!(retained.iter().any(|m| m.topic == topic), "{retained:?}");
    }
    assert!(retained.iter().all(|m| m.retain));
    assert!(retained.iter().any(is_offline), "{retained:?}");
    for pin in [17u8, 18, 27] {
        let topic = format!("edgetap/e2e-1/gpio/{pin}");
        assert!(
            retained.iter().any(|m| m.topic == topic),
            "{topic} not retained"
        );
    }
}

#[test]
fn broker_unreachable_at_start_agent_keeps_sampling_and_connects_later() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = agent_config(dir.path(), &signal, port, true, true);
    let mut agent = AgentProcess::start(&config, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        agent.is_running(),
        "agent gave up without a broker:\n{}",
        agent.stderr()
    );

    let broker = Mosquitto::start_on(port);
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let batch = sub
        .wait_for(
            |m| m.topic == "edgetap/e2e-1/edges",
            Duration::from_secs(15),
        )
        .unwrap_or_else(|| panic!("no batch after the broker appeared:\n{}", agent.stderr()));
    let batch: Batch = serde_json::from_slice(&batch.payload).unwrap();
    assert_eq!(batch.device, "e2e-1");

    agent.signal("TERM");
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(
        sub.wait_for(is_offline, Duration::from_secs(5)).is_some(),
        "no offline after SIGTERM"
    );
    assert!(!exit.stderr.contains("panicked"), "{}", exit.stderr);
    // The outage was logged plainly.
    assert!(
        exit.stderr.to_lowercase().contains("connect"),
        "{}",
        exit.stderr
    );
}

/// Runs the demo agent against its own mosquitto until edges flow, sends it `sig`, and returns
/// how it exited and what was published up to its `offline` (or 5 s after it exited).
fn stopped_by(sig: &str) -> (Exit, Vec<Msg>) {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = agent_config(dir.path(), &signal, broker.port(), true, true);
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let agent = AgentProcess::start(&config, &[]);
    sub.wait_for(
        |m| m.topic == "edgetap/e2e-1/edges",
        Duration::from_secs(10),
    )
    .expect("edges flow");
    agent.signal(sig);
    let exit = agent.wait(Duration::from_secs(15));
    let msgs = sub.collect_until(|m| m.last().is_some_and(is_offline), Duration::from_secs(5));
    (exit, msgs)
}

#[test]
fn sigint_flushes_and_publishes_offline() {
    let (exit, msgs) = stopped_by("INT");
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(msgs.last().is_some_and(is_offline));
    // Nothing published after offline, and seq stayed contiguous to the end.
    let got = batches(&msgs);
    for w in got.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
}

#[test]
fn sighup_is_a_clean_stop() {
    // An SSH session closing sends SIGHUP: the agent must flush and leave, not die at once.
    let (exit, msgs) = stopped_by("HUP");
    assert!(exit.status.success(), "{:?}\n{}", exit.status, exit.stderr);
    assert!(exit.stderr.contains("SIGHUP"), "{}", exit.stderr);
    assert!(msgs.last().is_some_and(is_offline));
}
