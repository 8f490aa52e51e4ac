//! Figure 2b: instructions per sample, counted by `valgrind --tool=callgrind` (repeatable, unlike
//! seconds), for the whole agent (`edgetap run`: sampling thread, publisher, runtime) on a
//! lock-step emulated Pi 4 at 1 µs, publishing to a real mosquitto.
//!
//! Lock-step needs the emulator in the same process, so output is per thread and the
//! emulator's thread (told by its functions) is left out. Start-up (config, the emulator's VCD
//! parse, DMA set-up, connecting) is taken out too: two runs of different lengths, and the
//! difference of their instructions over the difference of their samples is the steady cost.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::rig;
use crate::support::Mosquitto;

/// Instructions counted in one run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counted {
    /// Every thread but the emulator's.
    pub agent: u64,
    /// The emulator thread (stands for the DMA engine; not the agent's cost).
    pub emulator: u64,
    /// Samples the agent took (its closing log line).
    pub samples: u64,
    /// Batches it dropped (queue full): a run that dropped did less publishing work.
    pub dropped: u64,
}

/// Steady-state cost from a short and a long run.
#[derive(Debug, Clone, Copy)]
pub struct PerSample {
    /// The short run.
    pub short: Counted,
    /// The long run.
    pub long: Counted,
}

impl PerSample {
    /// Agent instructions per sample, start-up excluded.
    pub fn marginal(&self) -> f64 {
        let di = self.long.agent.saturating_sub(self.short.agent) as f64;
        let ds = self.long.samples.saturating_sub(self.short.samples) as f64;
        di / ds.max(1.0)
    }
}

/// Whether valgrind is installed.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `edgetap run` under callgrind for `wall` (then SIGTERM) and counts its instructions.
fn run_for(dir: &Path, config: &Path, wall: Duration) -> Counted {
    let out = dir.join(format!("cg-{}.out", wall.as_secs()));
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=callgrind",
        "--separate-threads=yes",
        "--dump-instr=no",
    ])
    .arg(format!("--callgrind-out-file={}", out.display()))
    .arg(env!("CARGO_BIN_EXE_edgetap"))
    .args(["run", "--summary-every", "0", "--config"])
    .arg(config)
    .env("RUST_LOG", "info,rumqttd=off")
    // Valgrind counts every byte a `rep movsb` moves as one instruction; a CPU moves 32 or more
    // per cycle. glibc uses `rep movsb` for copies over a few KiB on x86 (the bulk copy of a
    // 5000-sample block: 20 KiB), which would make the count say 4 instructions per sample for
    // a copy that costs a fraction of one. These tunables keep glibc on its vector loop, whose
    // count matches the work (aarch64 has no `rep movsb` anyway).
    .env(
        "GLIBC_TUNABLES",
        "glibc.cpu.x86_rep_movsb_threshold=1073741824:glibc.cpu.x86_rep_stosb_threshold=1073741824",
    );
    let p = rig::Proc::spawn(cmd, dir, &format!("callgrind-{}", wall.as_secs()));
    std::thread::sleep(wall);
    let log = p.stop();
    let mut c = Counted {
        samples: rig::logged(&log, "samples").unwrap_or_else(|| panic!("no closing line:\n{log}")),
        dropped: rig::logged(&log, "batches_dropped").unwrap_or(0),
        ..Counted::default()
    };
    let prefix = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for file in std::fs::read_dir(dir).expect("list").flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) {
            continue;
        }
        let text = std::fs::read_to_string(file.path()).unwrap_or_default();
        if text.contains("emu::machine") || text.contains("lockstep_loop") {
            c.emulator += totals(&text);
        } else {
            c.agent += totals(&text);
        }
    }
    c
}

/// A short and a long run at `period_us`.
pub fn measure(period_us: u32, block_samples: Option<u32>, max_age_ms: u32) -> PerSample {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start();
    let signal = rig::demo_signal(dir.path(), 10);
    let config = rig::DemoConfig {
        device: "bench-cg",
        signal: &signal,
        mem: None,
        realtime: false,
        period_us,
        block_samples,
        max_age_ms,
        port: broker.port(),
    }
    .write(dir.path());
    let short = run_for(dir.path(), &config, Duration::from_secs(20));
    let long = run_for(dir.path(), &config, Duration::from_secs(50));
    PerSample { short, long }
}

/// The `totals:` (or `summary:`) line of a callgrind output file.
fn totals(text: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
