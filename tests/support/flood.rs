//! Helpers for the flood-protection tests: the signal (a 250,000 edges/s flood next to two
//! normal pins), the agent config, the capture to compare with, and the checks on batches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::agent::{capture_edges, logged, AgentProcess};
use super::remote::START_US;
use super::{Msg, Subscriber};

pub const FLOOD: u8 = 18;
pub const SQUARE: u8 = 17;
pub const SLOW: u8 = 27;
/// The default `inputs[].max_edges_per_s`.
pub const LIMIT: u64 = 25_000;
/// Length of the signal, and the span the flood covers (then the pin is quiet).
pub const SIGNAL_US: u64 = 6_000_000;
pub const FLOOD_US: std::ops::Range<u64> = 100_000..5_000_000;
/// The flood toggles every 4 µs (250,000 edges/s); the sampler samples every 2 µs.
pub const FLOOD_EVERY_US: u64 = 4;

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
pub struct Edge {
    pub pin: u8,
    pub level: u8,
    pub t_us: u64,
}

#[derive(Debug, Deserialize)]
pub struct Limited {
    pub pin: u8,
    pub edges: u64,
}

#[derive(Debug, Deserialize)]
pub struct Batch {
    pub run: u64,
    pub seq: u64,
    pub edges: Vec<Edge>,
    #[serde(default)]
    pub rate_limited: Vec<Limited>,
}

/// The signal's changes per pin as (UTC µs, level): what a 2 µs sampler sees exactly, since
/// every change falls on a multiple of 2 µs.
pub fn changes() -> BTreeMap<u8, Vec<(u64, u8)>> {
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

pub fn write_signal(dir: &Path, changes: &BTreeMap<u8, Vec<(u64, u8)>>) -> PathBuf {
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
pub fn config(dir: &Path, device: &str, signal: &Path, port: u16, square: &str) -> PathBuf {
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
pub fn capture(config: &Path) -> (Vec<Edge>, u64) {
    let (edges, stderr) = capture_edges(config, &["--set", "sampler.replay.realtime=false"]);
    (edges, logged(&stderr, "capture done", "rate_limited"))
}

/// Collects messages until the agent has exited and nothing more arrives for a second.
pub fn collect_until_exit(sub: &Subscriber, agent: &mut AgentProcess, limit: Duration) -> Vec<Msg> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while agent.is_running() && Instant::now() < deadline {
        got.extend(sub.collect_until(|_| false, Duration::from_millis(500)));
    }
    got.extend(sub.collect_until(|_| false, Duration::from_secs(1)));
    got
}

/// The batches of `device` by (run, seq), checking that none is missing and there is one run.
pub fn batches(msgs: &[Msg], device: &str) -> BTreeMap<(u64, u64), Batch> {
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
pub fn of(batches: &BTreeMap<(u64, u64), Batch>, pin: u8) -> Vec<(u64, u8)> {
    batches
        .values()
        .flat_map(|b| &b.edges)
        .filter(|e| e.pin == pin)
        .map(|e| (e.t_us - START_US, e.level))
        .collect()
}

/// Panics unless `have` equals `want`, naming the first difference (not whole lists).
pub fn assert_same(have: &[(u64, u8)], want: &[(u64, u8)], what: &str) {
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
pub fn marked(batches: &BTreeMap<(u64, u64), Batch>) -> BTreeMap<u8, u64> {
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
pub fn within_bucket(times: &[u64], limit: u64) -> Result<(), String> {
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
