//! Flood protection against a real mosquitto: one pin toggling at 250,000 edges/s next to two
//! normal pins. The flood pin's rate limit (default 25,000 edges/s, one-second burst) engages:
//! its delivered edges never exceed what the bucket allows over any span, the dropped edges are
//! counted exactly in the batches' `rate_limited` markers and in the agent's stats, its level
//! ends true; the other pins lose no edge, and no batch is missing. A new limit sent over MQTT
//! applies live to that pin alone.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use support::agent::{edgetap, AgentProcess};
use support::remote::START_US;
use support::{publish, Mosquitto, Msg, Subscriber};

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

/// An agent config for `device` replaying `signal` in real time, once; the inputs keep the
/// default limit, pin 17 gets `square` (its filter settings, TOML).
fn config(dir: &Path, device: &str, signal: &Path, port: u16, square: &str) -> PathBuf {
    let path = dir.join(format!("{device}.toml"));
    let text = format!(
        r#"device_id = "{device}"
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
{square}
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
        state = dir.join(format!("{device}-state")).display(),
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

/// The batches of `device` by (run, seq), checking that none is missing and there is one run.
fn batches(msgs: &[Msg], device: &str) -> BTreeMap<(u64, u64), Batch> {
    let topic = format!("edgetap/{device}/edges");
    let mut batches = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.topic == topic) {
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
    batches
}

/// The edges of `pin` in `batches` as (µs since the signal's start, level).
fn of(batches: &BTreeMap<(u64, u64), Batch>, pin: u8) -> Vec<(u64, u8)> {
    batches
        .values()
        .flat_map(|b| &b.edges)
        .filter(|e| e.pin == pin)
        .map(|e| (e.t_us - START_US, e.level))
        .collect()
}

/// Panics unless `have` equals `want`, naming the first difference (not whole lists).
fn assert_same(have: &[(u64, u8)], want: &[(u64, u8)], what: &str) {
    let at = have.iter().zip(want).position(|(a, b)| a != b);
    let at = at.or((have.len() != want.len()).then(|| have.len().min(want.len())));
    if let Some(i) = at {
        let near = |v: &[(u64, u8)]| v[i.saturating_sub(2)..(i + 3).min(v.len())].to_vec();
        panic!(
            "{what}: {} edges vs {} expected, first difference at {i}: {:?} vs {:?}",
            have.len(),
            want.len(),
            near(have),
            near(want)
        );
    }
}

/// The sum of the `rate_limited` markers per pin.
fn marked(batches: &BTreeMap<(u64, u64), Batch>) -> BTreeMap<u8, u64> {
    let mut marked: BTreeMap<u8, u64> = BTreeMap::new();
    for r in batches.values().flat_map(|b| &b.rate_limited) {
        assert!(r.edges > 0, "no empty marker");
        *marked.entry(r.pin).or_default() += r.edges;
    }
    marked
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
    let config = config(dir.path(), "flood", &signal, broker.port(), "");
    let flood_in = changes[&FLOOD].len() as u64;
    assert!(flood_in >= 1_000_000, "{flood_in} flood edges");
    // What the agent must publish: capture runs the same pipeline with the same limits.
    let (want, captured_limited) = capture(&config);

    let sub = Subscriber::connect(broker.port(), "edgetap/flood/#");
    let mut agent = AgentProcess::start(&config, &[]);
    let got = collect_until_exit(&sub, &mut agent, Duration::from_secs(60));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    let batches = batches(&got, "flood");

    // The other pins: every edge of the signal, at its time.
    assert_same(
        &of(&batches, SQUARE),
        &changes[&SQUARE],
        "pin 17 lost nothing",
    );
    assert_same(&of(&batches, SLOW), &changes[&SLOW], "pin 27 lost nothing");

    // The flood pin: limited, within the bucket over every span, alternating, ending true.
    let flood = of(&batches, FLOOD);
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
    let marked = marked(&batches);
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
    let mut sorted: Vec<Edge> = batches.values().flat_map(|b| b.edges.clone()).collect();
    sorted.sort_unstable_by_key(|e| (e.pin, e.t_us));
    let mut want = want;
    want.sort_unstable_by_key(|e| (e.pin, e.t_us));
    assert!(
        sorted == want,
        "capture output equals what run publishes ({} vs {} edges)",
        sorted.len(),
        want.len()
    );
}

#[test]
fn a_new_limit_applies_live_to_that_pin_only() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let changes = changes();
    let signal = write_signal(dir.path(), &changes);
    // Pin 17 under a lockout that is always running on its 500 Hz square wave: rebuilding its
    // filter would show in its edges.
    let square = "lockout_us = 1500";
    let config = config(dir.path(), "relimit", &signal, broker.port(), square);
    let (want, _) = capture(&config);
    let want17: Vec<(u64, u8)> = want
        .iter()
        .filter(|e| e.pin == SQUARE)
        .map(|e| (e.t_us - START_US, e.level))
        .collect();
    assert!(
        want17.len() < changes[&SQUARE].len(),
        "the lockout hides edges"
    );

    let sub = Subscriber::connect(broker.port(), "edgetap/relimit/#");
    let mut agent = AgentProcess::start(&config, &[]);
    // Once the signal is past 1 s, the flood pin gets a limit of 1,000 edges/s.
    let past_1s = |m: &Msg| {
        m.topic == "edgetap/relimit/edges"
            && serde_json::from_slice::<Batch>(&m.payload)
                .is_ok_and(|b| b.edges.iter().any(|e| e.t_us >= START_US + 1_000_000))
    };
    let mut got = sub.collect_until(|m| m.last().is_some_and(past_1s), Duration::from_secs(20));
    assert!(got.last().is_some_and(past_1s), "{}", agent.stderr());
    // Lists are replaced whole: pins 17 and 27 are sent unchanged.
    let patch = format!(
        r#"{{"_request":"r1","inputs":[{{"pin":{SQUARE},"lockout_us":1500}},
            {{"pin":{FLOOD},"max_edges_per_s":1000}},{{"pin":{SLOW}}}]}}"#
    );
    publish(
        broker.port(),
        "edgetap/relimit/config/set",
        patch.as_bytes(),
        false,
    );
    got.extend(collect_until_exit(
        &sub,
        &mut agent,
        Duration::from_secs(60),
    ));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    let result = got
        .iter()
        .find(|m| m.topic == "edgetap/relimit/config/result")
        .map(Msg::text);
    assert_eq!(
        result.as_deref(),
        Some(r#"{"request":"r1","version":1,"ok":true}"#)
    );

    let batches = batches(&got, "relimit");
    // Untouched pins keep their state: exactly what the old config captures.
    assert_same(
        &of(&batches, SQUARE),
        &want17,
        "pin 17 kept its lockout state",
    );
    assert_same(&of(&batches, SLOW), &changes[&SLOW], "pin 27 lost nothing");

    // The flood pin: 25,000 edges/s before the change (its burst alone passes in the first
    // 0.1 s of flood), 1,000/s well after it; every edge still accounted for.
    let flood = of(&batches, FLOOD);
    let within = |r: std::ops::Range<u64>| flood.iter().filter(|e| r.contains(&e.0)).count();
    assert!(within(0..1_000_000) >= 25_000, "{}", within(0..1_000_000));
    let late = within(4_000_000..5_000_000);
    assert!(
        (900..=2_000).contains(&late),
        "{late} edges in the last second"
    );
    assert!(
        flood.windows(2).all(|w| w[0].1 != w[1].1),
        "levels alternate"
    );
    let marked = marked(&batches);
    assert_eq!(marked.keys().copied().collect::<Vec<_>>(), vec![FLOOD]);
    let flood_in = changes[&FLOOD].len() as u64;
    assert_eq!(
        flood.len() as u64 + marked[&FLOOD],
        flood_in,
        "every flood edge counted"
    );
    assert_eq!(
        marked[&FLOOD],
        logged(&exit.stderr, "agent stopped", "rate_limited")
    );
}
