//! Flood protection against a real mosquitto: one pin toggling at 250,000 edges/s next to two
//! normal pins. The flood pin's rate limit (default 25,000 edges/s, one-second burst) engages:
//! its delivered edges never exceed what the bucket allows over any span, the dropped edges are
//! counted exactly in the batches' `rate_limited` markers and in the agent's stats, its level
//! ends true; the other pins lose no edge, and no batch is missing.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use support::agent::{edgetap, AgentProcess};
use support::remote::START_US;
use support::{Mosquitto, Msg, Subscriber};

const FLOOD: u8 = 18;
const SQUARE: u8 = 17;
const SLOW: u8 = 27;
/// The default `inputs[].max_edges_per_s`.
const LIMIT: u64 = 25_000;
/// Length of the signal, and the span the flood covers (then the pin is quiet).
const SIGNAL_US: u64 = 6_000_000;
const FLOOD_US: std::ops::Range<u64> = 100_000..5_000_000;
/// The flood toggles every 4 µs (250,000 edges/s); the sampler samples every 2 µs.
const FLOOD_EVERY_US: u64 = 4;

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
struct Edge {
    pin: u8,
    level: u8,
    t_us: u64,
}

#[derive(Debug, Deserialize)]
struct Limited {
    pin: u8,
    edges: u64,
}

#[derive(Debug, Deserialize)]
struct Batch {
    run: u64,
    seq: u64,
    edges: Vec<Edge>,
    #[serde(default)]
    rate_limited: Vec<Limited>,
}

/// The signal's changes per pin as (UTC µs, level): what a 2 µs sampler sees exactly, since
/// every change falls on a multiple of 2 µs.
fn changes() -> BTreeMap<u8, Vec<(u64, u8)>> {
    let mut out: BTreeMap<u8, Vec<(u64, u8)>> = BTreeMap::new();
    let mut level = 0;
    for t in FLOOD_US.step_by(FLOOD_EVERY_US as usize) {
        level ^= 1;
        out.entry(FLOOD).or_default().push((t, level));
    }
    // A 500 Hz square wave: 1,000 edges/s.
    let mut level = 0;
    for t in (1_000..SIGNAL_US).step_by(1_000) {
        level ^= 1;
        out.entry(SQUARE).or_default().push((t, level));
    }
    // A slow, irregular input: 2-50 ms between changes (a small LCG, so it is reproducible).
    let (mut t, mut x, mut level) = (3_000u64, 12_345u64, 0);
    while t < SIGNAL_US {
        level ^= 1;
        out.entry(SLOW).or_default().push((t, level));
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        t += 2_000 + 2 * ((x >> 33) % 24_000);
    }
    out
}

fn write_signal(dir: &Path, changes: &BTreeMap<u8, Vec<(u64, u8)>>) -> PathBuf {
    use edgetap::vcd::{TraceBuilder, FS_PER_US};
    let mut b = TraceBuilder::new();
    let mut all: Vec<(u64, u8, u8)> = Vec::new();
    for (&pin, list) in changes {
        b.initial(pin, 0);
        all.extend(list.iter().map(|&(t, l)| (t, pin, l)));
    }
    all.sort_unstable();
    for (t, pin, level) in all {
        b.change_us(t, pin, level);
    }
    b.end_at(u128::from(SIGNAL_US) * FS_PER_US);
    let path = dir.join("flood.vcd");
    let file = std::fs::File::create(&path).unwrap();
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).unwrap();
    path
}

/// An agent config replaying `signal` in real time, once; the inputs keep the default limit.
fn config(dir: &Path, signal: &Path, port: u16) -> PathBuf {
    let path = dir.join("flood.toml");
    let text = format!(
        r#"device_id = "flood"
state_dir = "{state}"
[sampler]
period_us = 2
block_samples = 1000
[sampler.replay]
signal = "{signal}"
realtime = true
start_us = {START_US}
[[inputs]]
pin = {SQUARE}
[[inputs]]
pin = {FLOOD}
[[inputs]]
pin = {SLOW}
[batch]
max_edges = 512
max_age_ms = 50
queue_batches = 100000
[homeassistant]
enabled = false
[mqtt]
port = {port}
"#,
        state = dir.join("state").display(),
        signal = signal.display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The edges and the rate-limited count `edgetap capture` finds with `config`.
fn capture(config: &Path) -> (Vec<Edge>, u64) {
    let out = edgetap()
        .args(["capture", "--config"])
        .arg(config)
        .args(["--set", "sampler.replay.realtime=false"])
        .env("RUST_LOG", "edgetap=info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let edges = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (edges, logged(&stderr, "capture done", "rate_limited"))
}

/// `key=N` from the last log line containing `what`.
fn logged(log: &str, what: &str, key: &str) -> u64 {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no `{what}` line in:\n{log}"));
    let at = line
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("{key} not in {line}"));
    line[at + key.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} not a number in {line}"))
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

/// Whether `times` (ascending) respects a token bucket of `limit` tokens refilled at `limit`
/// per second: over every span [t_i, t_j], j − i + 1 ≤ limit + limit·(t_j − t_i)/1 s. Checked
/// in one pass: j + 1 − limit·t_j/1 s + max_{i ≤ j}(limit·t_i/1 s − i) ≤ limit.
fn within_bucket(times: &[u64], limit: u64) -> Result<(), String> {
    let (limit, second) = (i128::from(limit), 1_000_000i128);
    let mut best = i128::MIN;
    for (j, &t) in times.iter().enumerate() {
        let (j, t) = (j as i128, i128::from(t - times[0]));
        best = best.max(limit * t - j * second);
        let excess = (j + 1) * second - limit * t + best - limit * second;
        if excess > 0 {
            return Err(format!("edge {j} at +{t} µs is over the limit"));
        }
    }
    Ok(())
}

#[test]
fn a_pin_flooding_at_250000_edges_per_s_is_limited_and_the_others_lose_nothing() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let changes = changes();
    let signal = write_signal(dir.path(), &changes);
    let config = config(dir.path(), &signal, broker.port());
    let flood_in = changes[&FLOOD].len() as u64;
    assert!(flood_in >= 1_000_000, "{flood_in} flood edges");

    // What the agent must publish: capture runs the same pipeline with the same limits.
    let (want, captured_limited) = capture(&config);

    let sub = Subscriber::connect(broker.port(), "edgetap/flood/#");
    let mut agent = AgentProcess::start(&config, &[]);
    let got = collect_until_exit(&sub, &mut agent, Duration::from_secs(60));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);

    // Every batch, once, in one run, seq without a hole.
    let mut batches: BTreeMap<(u64, u64), Batch> = BTreeMap::new();
    for m in got.iter().filter(|m| m.topic == "edgetap/flood/edges") {
        let b: Batch = serde_json::from_slice(&m.payload).expect("batch JSON");
        batches.insert((b.run, b.seq), b);
    }
    let seqs: Vec<u64> = batches.keys().map(|&(_, s)| s).collect();
    assert_eq!(
        seqs,
        (0..seqs.len() as u64).collect::<Vec<_>>(),
        "no batch missing"
    );
    let runs: Vec<u64> = batches.keys().map(|&(r, _)| r).collect();
    assert!(runs.windows(2).all(|w| w[0] == w[1]), "one run");

    // The other pins: every edge of the signal, at its time.
    let delivered: Vec<Edge> = batches.values().flat_map(|b| b.edges.clone()).collect();
    let of = |pin: u8| -> Vec<(u64, u8)> {
        delivered
            .iter()
            .filter(|e| e.pin == pin)
            .map(|e| (e.t_us - START_US, e.level))
            .collect()
    };
    assert_eq!(of(SQUARE), changes[&SQUARE], "pin {SQUARE} lost nothing");
    assert_eq!(of(SLOW), changes[&SLOW], "pin {SLOW} lost nothing");

    // The flood pin: limited, within the bucket over every span, alternating, ending true.
    let flood = of(FLOOD);
    let times: Vec<u64> = flood.iter().map(|&(t, _)| t).collect();
    let span_s = (FLOOD_US.end - FLOOD_US.start) / 1_000_000 + 1;
    assert!(
        (flood.len() as u64) <= LIMIT * (1 + span_s),
        "{} flood edges delivered",
        flood.len()
    );
    assert!(
        flood.len() as u64 >= LIMIT * 4,
        "the limit lets its rate through"
    );
    within_bucket(&times, LIMIT).unwrap();
    assert!(
        flood.windows(2).all(|w| w[0].1 != w[1].1),
        "levels alternate"
    );
    assert_eq!(flood.first().map(|f| f.1), Some(1));
    let last_level = changes[&FLOOD].last().unwrap().1;
    assert_eq!(
        flood.last().map(|f| f.1),
        Some(last_level),
        "the level ends true"
    );
    let gpio = got
        .iter()
        .rev()
        .find(|m| m.topic == format!("edgetap/flood/gpio/{FLOOD}"));
    let on_off = if last_level == 1 { "ON" } else { "OFF" };
    assert_eq!(
        gpio.map(Msg::text).as_deref(),
        Some(on_off),
        "gpio/{FLOOD} ends true"
    );

    // The count: in the markers, only for the flood pin, equal to the agent's and capture's,
    // and with the delivered edges it makes every edge of the flood.
    let mut marked: BTreeMap<u8, u64> = BTreeMap::new();
    for r in batches.values().flat_map(|b| &b.rate_limited) {
        assert!(r.edges > 0);
        *marked.entry(r.pin).or_default() += r.edges;
    }
    assert_eq!(marked.keys().copied().collect::<Vec<_>>(), vec![FLOOD]);
    let dropped = marked[&FLOOD];
    assert!(dropped > 0);
    assert_eq!(
        dropped,
        logged(&exit.stderr, "agent stopped", "rate_limited")
    );
    assert_eq!(dropped, captured_limited, "capture applies the same limit");
    assert_eq!(
        flood.len() as u64 + dropped,
        flood_in,
        "every flood edge accounted for"
    );
    assert!(
        exit.stderr.contains("input over its rate limit"),
        "the flood is logged"
    );

    // And `capture` shows exactly what was published.
    let mut sorted = delivered.clone();
    sorted.sort_unstable_by_key(|e| (e.pin, e.t_us));
    let mut want = want;
    want.sort_unstable_by_key(|e| (e.pin, e.t_us));
    assert!(sorted == want, "capture output equals what run publishes");
}
