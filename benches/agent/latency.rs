//! Figure 4: latency from an edge's time (`t_us`, UTC of the sample that showed it) to its
//! receipt by a subscriber, at 10,000 edges/s through a real mosquitto.

use std::path::Path;
use std::time::Duration;

use crate::rig::{self, Stamped};
use crate::support::Mosquitto;

/// Latency percentiles (ms) over every edge received in the window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    /// Edges measured.
    pub edges: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst.
    pub max_ms: f64,
}

/// Batch window and block length of the run, the terms of the target.
pub const MAX_AGE_MS: u64 = 10;
/// Samples per block at `PERIOD_US`: 1 ms blocks.
const BLOCK_SAMPLES: u32 = 200;
const PERIOD_US: u32 = 5;

/// The config: `backend` ("replay" or "emulated") replaying `signal` in real time.
fn config(dir: &Path, backend: &str, signal: &Path, port: u16) -> std::path::PathBuf {
    let text = format!(
        r#"device_id = "bench-lat"
state_dir = "{state}"
[sampler]
backend = "{backend}"
period_us = {PERIOD_US}
block_samples = {BLOCK_SAMPLES}
buffer_ms = 100
[sampler.replay]
signal = "{signal}"
realtime = true
loop = true
[sampler.emulated]
board = "pi4"
signal = "{signal}"
realtime = true
loop = true
[[inputs]]
pin = 20
[[inputs]]
pin = 21
[batch]
max_edges = 512
max_age_ms = {MAX_AGE_MS}
[homeassistant]
enabled = false
[mqtt]
port = {port}
qos = 1
"#,
        state = dir.join(format!("state-{backend}")).display(),
        signal = signal.display(),
    );
    let path = dir.join(format!("latency-{backend}.toml"));
    std::fs::write(&path, text).expect("config");
    path
}

/// Runs `backend` at 10,000 edges/s for `window` and measures every edge's latency.
pub fn measure(backend: &str, window: Duration) -> Latency {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start();
    // Two pins toggling every 200 µs: 10,000 edges/s.
    let signal = rig::square_signal(dir.path(), &[20, 21], 200, 2);
    let sub = Stamped::connect(broker.port(), "edgetap/bench-lat/edges", true);
    let cfg = config(dir.path(), backend, &signal, broker.port());
    let agent = rig::agent(&cfg, dir.path());
    assert!(
        sub.wait(|s| s.messages > 0, Duration::from_secs(30)),
        "no batches:\n{}",
        agent.log()
    );
    // Warm-up, then keep only what arrives in the window.
    std::thread::sleep(Duration::from_secs(1));
    let from = rig::utc_us();
    std::thread::sleep(window);
    let to = rig::utc_us();
    drop(agent);
    let kept = std::mem::take(&mut sub.seen.lock().expect("state").kept);
    let mut ms: Vec<f64> = Vec::new();
    for (recv_us, payload) in kept.iter().filter(|(t, _)| (from..to).contains(t)) {
        let Ok(batch) = serde_json::from_slice::<serde_json::Value>(payload) else {
            continue;
        };
        for e in batch["edges"].as_array().into_iter().flatten() {
            if let Some(t) = e["t_us"].as_u64() {
                ms.push(recv_us.saturating_sub(t) as f64 / 1000.0);
            }
        }
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    assert!(!ms.is_empty(), "no edges in the window");
    Latency {
        edges: ms.len(),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}

/// Block length (ms) of the run, part of what an edge waits.
pub fn block_ms() -> f64 {
    f64::from(BLOCK_SAMPLES * PERIOD_US) / 1000.0
}
