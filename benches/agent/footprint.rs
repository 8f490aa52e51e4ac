//! Figure 5: binary size (stripped, x86_64 and aarch64), time from start to first publish.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::rig::{self, Stamped};
use crate::support::Mosquitto;

/// Size of `bin` once stripped by `strip` (the right one for its architecture); `None` if no
/// strip tool was found.
pub fn stripped_size(bin: &Path, strip: &str) -> Option<u64> {
    let dir = tempfile::tempdir().ok()?;
    let out = dir.path().join("edgetap");
    let ok = Command::new(strip)
        .arg("-o")
        .arg(&out)
        .arg(bin)
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| std::fs::metadata(&out).ok().map(|m| m.len()))
        .flatten()
}

/// This bench's own x86_64 binary.
pub fn native_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_edgetap"))
}

/// The aarch64 release binary, if one was cross-built (`EDGETAP_AARCH64_BIN`, or the default
/// cross target directory).
pub fn aarch64_binary() -> Option<PathBuf> {
    let from_env = std::env::var_os("EDGETAP_AARCH64_BIN").map(PathBuf::from);
    let default = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/aarch64-unknown-linux-gnu/release/edgetap");
    from_env.or(Some(default)).filter(|p| p.exists())
}

/// Start → broker `online` and start → first edge batch, median of `runs`.
pub fn start_to_first_publish(runs: usize) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start();
    // An edge every ms from the start.
    let signal = rig::square_signal(dir.path(), &[20], 1000, 2);
    let mut online = Vec::new();
    let mut first = Vec::new();
    for run in 0..runs {
        let name = format!("bench-start{run}");
        let text = format!(
            r#"device_id = "{name}"
state_dir = "{state}"
[sampler]
backend = "replay"
period_us = 5
block_samples = 200
[sampler.replay]
signal = "{signal}"
realtime = true
loop = true
[[inputs]]
pin = 20
[batch]
max_edges = 512
max_age_ms = 10
[homeassistant]
enabled = false
[mqtt]
port = {port}
"#,
            state = dir.path().join(format!("{name}-state")).display(),
            signal = signal.display(),
            port = broker.port(),
        );
        let cfg = dir.path().join(format!("{name}.toml"));
        std::fs::write(&cfg, text).expect("config");
        let status = Stamped::connect(broker.port(), &format!("edgetap/{name}/status"), false);
        let edges = Stamped::connect(broker.port(), &format!("edgetap/{name}/edges"), false);
        let t0 = rig::utc_us();
        let agent = rig::agent(&cfg, dir.path());
        let limit = Duration::from_secs(20);
        let since = |sub: &Stamped| {
            let first = sub.seen.lock().expect("state").first_us.unwrap_or(t0);
            Duration::from_micros(first.saturating_sub(t0))
        };
        assert!(status.wait(|s| s.messages > 0, limit), "no status");
        online.push(since(&status));
        assert!(edges.wait(|s| s.messages > 0, limit), "no batch");
        first.push(since(&edges));
        drop(agent);
    }
    online.sort();
    first.sort();
    (online[runs / 2], first[runs / 2])
}
