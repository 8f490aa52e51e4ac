//! The periodic stats message against a real mosquitto: an agent replaying the demo
//! signal (5 µs period; 1 kHz pulse train on GPIO 18) publishes `edgetap/<id>/stats` every
//! `stats.interval_s` with the contract's keys and plausible values, and a remote change of the
//! interval changes the spacing without a reconnect.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use edgetap::mqtt::STATS_KEYS;
use serde_json::Value;
use support::agent::{demo_signal, AgentProcess};
use support::remote::{json, write_config, WAIT};
use support::{publish, Mosquitto, Msg, Subscriber};

const STATS: &str = "edgetap/st/stats";
const RESULT: &str = "edgetap/st/config/result";

/// The next stats message (skipping other topics), with the time it arrived.
fn next_stats(sub: &Subscriber, agent: &AgentProcess) -> (Instant, Value) {
    let m = sub
        .wait_for(|m| m.topic == STATS, WAIT)
        .unwrap_or_else(|| panic!("no stats within {WAIT:?}; agent log:\n{}", agent.stderr()));
    (Instant::now(), json(&m))
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {v}"))
}

/// What every message must show, whatever the load of the machine.
fn check_message(v: &Value) {
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, STATS_KEYS.iter().copied().collect(), "{v}");
    assert_eq!(v["v"], 1);
    assert_eq!(v["device"], "st");
    assert!(v["run"].as_u64().is_some_and(|r| r > 0), "{v}");
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as f64;
    assert!((f(v, "t_us") - now_us).abs() < 60e6, "t_us is not now: {v}");
    let pins: BTreeSet<&str> = v["edges_per_s_by_pin"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(pins, ["17", "18", "27"].into_iter().collect(), "{v}");
    assert_eq!(v["connects"], 1, "{v}");
    assert_eq!(v["reconnects"], 0, "{v}");
    assert_eq!(v["dropped_queue_full"], 0, "{v}");
    let (p50, p99) = (
        f(v, "publish_latency_ms_p50"),
        f(v, "publish_latency_ms_p99"),
    );
    assert!(0.0 <= p50 && p50 <= p99 && p99 < 10_000.0, "{v}");
    assert!(f(v, "cpu_percent") >= 0.0, "{v}");
    assert!(f(v, "rss_bytes") > 1e6, "{v}");
}

#[test]
fn stats_every_interval_with_contract_keys_and_a_remote_interval_change() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let body = "[stats]\ninterval_s = 1\n";
    let config = write_config(dir.path(), "st", &signal, broker.port(), body);
    let sub = Subscriber::connect(broker.port(), "edgetap/st/#");
    let agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);

    // Every second, from one interval after start.
    let got: Vec<(Instant, Value)> = (0..4).map(|_| next_stats(&sub, &agent)).collect();
    for (_, v) in &got {
        check_message(v);
        assert!((0.5..2.0).contains(&f(v, "interval_s")), "{v}");
    }
    assert!(
        f(&got[0].1, "uptime_s") >= 1.0,
        "first one before an interval: {}",
        got[0].1
    );
    for w in got.windows(2) {
        assert!(
            f(&w[1].1, "batches_sent") > f(&w[0].1, "batches_sent"),
            "{}",
            w[1].1
        );
    }
    // Rates over what the agent measured (robust to a late tick): 1e6 / 5 µs samples per s,
    // 2000 edges/s on the 1 kHz pin. The first interval includes the start-up; skip it.
    let secs: f64 = got[1..].iter().map(|(_, v)| f(v, "interval_s")).sum();
    let rate = |get: &dyn Fn(&Value) -> f64| {
        got[1..]
            .iter()
            .map(|(_, v)| get(v) * f(v, "interval_s"))
            .sum::<f64>()
            / secs
    };
    let samples = rate(&|v| f(v, "samples_per_s"));
    assert!(
        (samples / 200_000.0 - 1.0).abs() < 0.25,
        "samples/s {samples}"
    );
    let pin18 = rate(&|v| v["edges_per_s_by_pin"]["18"].as_f64().unwrap());
    assert!(
        (pin18 / 2000.0 - 1.0).abs() < 0.25,
        "gpio18 edges/s {pin18}"
    );

    // A remote change to 3 s: the spacing follows, on the same connection.
    publish(
        broker.port(),
        "edgetap/st/config/set",
        br#"{"_request":"s3","stats":{"interval_s":3}}"#,
        false,
    );
    let res = sub
        .wait_for(|m: &Msg| m.topic == RESULT, WAIT)
        .expect("no config result");
    assert_eq!(json(&res)["ok"], true, "{}", res.text());
    // Same subscription, same publisher: every stats message from here on was made after the
    // change (the publisher takes the change before it queues the result).
    let after: Vec<(Instant, Value)> = (0..2).map(|_| next_stats(&sub, &agent)).collect();
    for (_, v) in &after {
        check_message(v);
        assert!((2.5..5.5).contains(&f(v, "interval_s")), "{v}");
    }
    let gap = after[1].0.duration_since(after[0].0);
    assert!(
        gap >= Duration::from_secs(2),
        "3 s interval, messages {gap:?} apart"
    );

    agent.signal("TERM");
    let exit = agent.wait(Duration::from_secs(20));
    assert!(exit.status.success(), "{}", exit.stderr);
}
