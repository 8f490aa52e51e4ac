//! Helpers for the remote-configuration tests: agent configs with their own state_dir, captures
//! to compare with, and result waiting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::agent::capture_edges;
use super::{Msg, Subscriber};

/// One published edge.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
pub struct Edge {
    pub pin: u8,
    pub level: u8,
    pub t_us: u64,
}

/// One published batch.
#[derive(Debug, Deserialize)]
pub struct Batch {
    pub seq: u64,
    pub edges: Vec<Edge>,
    #[serde(default)]
    pub gaps: Vec<Value>,
}

/// UTC µs of VCD time 0 in captures.
pub const START_US: u64 = 1_764_040_000_000_000;
/// The bound of every wait.
pub const WAIT: Duration = Duration::from_secs(15);

/// An agent config: the demo signal's three pins, its own state_dir, rollback after 5 s.
pub fn write_config(dir: &Path, name: &str, signal: &Path, port: u16, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let state = dir.join(format!("{name}-state"));
    let text = format!(
        r#"device_id = "{name}"
state_dir = "{}"
{body}
[sampler]
period_us = 5
block_samples = 500
[sampler.replay]
signal = "{}"
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
port = {port}
keep_alive_s = 5
reconnect_min_ms = 50
reconnect_max_ms = 400
rollback_after_s = 5
"#,
        state.display(),
        signal.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The edges `edgetap capture` finds with `config` (replayed from `START_US`, not paced).
pub fn captured(config: &Path, glitch17: u64) -> Vec<Edge> {
    let text = std::fs::read_to_string(config).unwrap();
    let copy = config.with_extension(format!("glitch{glitch17}.toml"));
    let glitch = format!("glitch_us = {glitch17}");
    std::fs::write(&copy, text.replace("glitch_us = 1000", &glitch)).unwrap();
    let start = format!("sampler.replay.start_us={START_US}");
    let args = [
        "--set",
        "sampler.replay.realtime=false",
        "--set",
        &start,
        "--set",
        "sampler.replay.loop=false",
    ];
    capture_edges(&copy, &args).0
}

/// The batches of `device` among `msgs`.
pub fn batches(msgs: &[Msg], device: &str) -> Vec<Batch> {
    let topic = format!("edgetap/{device}/edges");
    msgs.iter()
        .filter(|m| m.topic == topic)
        .map(|m| serde_json::from_slice(&m.payload).expect("batch JSON"))
        .collect()
}

/// A message's payload as JSON.
pub fn json(m: &Msg) -> Value {
    serde_json::from_slice(&m.payload).unwrap_or_else(|e| panic!("{}: {e}", m.text()))
}

/// Waits for the next result of `device`, keeping every message seen on the way in `seen`.
pub fn result(sub: &Subscriber, device: &str, seen: &mut Vec<Msg>) -> Value {
    let topic = format!("edgetap/{device}/config/result");
    let got = sub.collect_until(|m| m.last().is_some_and(|m| m.topic == topic), WAIT);
    let m = got
        .last()
        .filter(|m| m.topic == topic)
        .map(json)
        .unwrap_or_else(|| panic!("no result on {topic}"));
    seen.extend(got);
    m
}

/// Panics unless `seq` has no hole.
pub fn assert_contiguous(got: &[Batch]) {
    for w in got.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "a batch is missing");
    }
}
