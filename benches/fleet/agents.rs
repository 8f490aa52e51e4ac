//! The fleet: N `edgetap run` processes on the replay backend in real time, each with its own
//! small signal, config and `state_dir`, devices `fleet-0000`…, all in group `fleet`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::procfs;
use crate::rig::{self, Proc};

/// The group every agent is in.
pub const GROUP: &str = "fleet";
/// Sample period of the fleet: a door contact or an S0 meter needs no finer.
pub const PERIOD_US: u32 = 1000;
/// 50 ms blocks: 20 sampler wake-ups a second.
pub const BLOCK_SAMPLES: u32 = 50;
/// Batch window: a batch at most every 200 ms while edges come.
pub const MAX_AGE_MS: u32 = 200;
/// Length of every signal (replayed in a loop).
const SIGNAL_S: u64 = 10;
/// The flood pin of agent 0: toggles every 50 µs (20,000 edges/s), not watched until the flood
/// patch adds it.
pub const FLOOD_PIN: u8 = 22;
const FLOOD_EVERY_US: u64 = 50;

/// Device id of agent `i`.
pub fn device(i: usize) -> String {
    format!("fleet-{i:04}")
}

/// Agent `i`'s signal: pin 17 toggling every 80–120 ms (its own period and phase), pin 18 every
/// second; agent 0's also carries the flood pin.
fn signal(dir: &Path, i: usize) -> PathBuf {
    use edgetap::vcd::{TraceBuilder, FS_PER_US};
    let end_us = SIGNAL_S * 1_000_000;
    let mut b = TraceBuilder::new();
    b.initial(17, 0).initial(18, 0);
    let mut toggle = |pin: u8, every_us: u64, phase_us: u64| {
        let (mut t, mut level) = (phase_us.max(1), 0u8);
        while t < end_us {
            level ^= 1;
            b.change_us(t, pin, level);
            t += every_us;
        }
    };
    toggle(17, (80 + (i % 41) as u64) * 1000, (i % 97) as u64 * 1000);
    toggle(18, 1_000_000, 500_000 + (i % 89) as u64 * 1000);
    if i == 0 {
        toggle(FLOOD_PIN, FLOOD_EVERY_US, 7);
    }
    b.end_at(u128::from(end_us) * FS_PER_US);
    let path = dir.join(format!("{}.vcd", device(i)));
    let file = std::fs::File::create(&path).expect("signal file");
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).expect("write VCD");
    path
}

/// Writes agent `i`'s signal and config under `dir`; returns the config's path.
fn config(dir: &Path, i: usize, port: u16) -> PathBuf {
    let dev = device(i);
    let text = format!(
        r#"device_id = "{dev}"
groups = ["{GROUP}"]
state_dir = "{state}"
[sampler]
backend = "replay"
period_us = {PERIOD_US}
block_samples = {BLOCK_SAMPLES}
[sampler.replay]
signal = "{signal}"
realtime = true
loop = true
[[inputs]]
pin = 17
glitch_us = 2000
[[inputs]]
pin = 18
[batch]
max_edges = 512
max_age_ms = {MAX_AGE_MS}
[homeassistant]
enabled = false
[mqtt]
port = {port}
qos = 1
"#,
        state = dir.join(format!("{dev}-state")).display(),
        signal = signal(dir, i).display(),
    );
    let path = dir.join(format!("{dev}.toml"));
    std::fs::write(&path, text).expect("agent config");
    path
}

/// The running agents.
pub struct Fleet {
    /// Agent `i` is `procs[i]`.
    pub procs: Vec<Proc>,
}

impl Fleet {
    /// Writes every config, then starts the N agents one after the other.
    pub fn start(dir: &Path, n: usize, port: u16) -> Fleet {
        let configs: Vec<PathBuf> = (0..n).map(|i| config(dir, i, port)).collect();
        let procs = configs
            .iter()
            .enumerate()
            .map(|(i, cfg)| {
                let mut cmd = rig::edgetap();
                cmd.args(["run", "--summary-every", "0", "--config"])
                    .arg(cfg);
                cmd.env("RUST_LOG", "info,rumqttd=off");
                Proc::spawn(cmd, dir, &device(i))
            })
            .collect();
        Fleet { procs }
    }

    /// Process ids, agent order.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(Proc::pid).collect()
    }

    /// The agents that have exited.
    pub fn exited(&mut self) -> Vec<usize> {
        (0..self.procs.len())
            // A zombie has no VmRSS line: its rss reads 0.
            .filter(|&i| procfs::usage(self.procs[i].pid()).map_or(true, |u| u.rss == 0))
            .collect()
    }

    /// SIGTERM to every agent at once, then a bounded wait for each.
    pub fn stop(mut self) {
        self.signal("-TERM");
        std::thread::sleep(Duration::from_secs(2));
        for p in std::mem::take(&mut self.procs) {
            p.stop();
        }
    }

    /// Sends `signal` to every agent with one `kill` (a thousand would take seconds).
    fn signal(&self, signal: &str) {
        if self.procs.is_empty() {
            return;
        }
        let _ = std::process::Command::new("kill")
            .arg(signal)
            .args(self.procs.iter().map(|p| p.pid().to_string()))
            .status();
    }
}

impl Drop for Fleet {
    /// A bench that fails half-way kills every agent at once (each `Proc` then only reaps).
    fn drop(&mut self) {
        self.signal("-KILL");
    }
}

/// Memory of a set of processes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Memory {
    /// Sum of VmRSS (bytes): counts the shared pages (the binary's text, libc) once per process.
    pub rss: u64,
    /// Sum of Pss (bytes, /proc/<pid>/smaps_rollup): shared pages divided among their users,
    /// so the sum is what the fleet really takes.
    pub pss: u64,
}

/// Memory of `pids`, summed.
pub fn memory(pids: &[u32]) -> Memory {
    let mut m = Memory::default();
    for &pid in pids {
        m.rss += procfs::usage(pid).map_or(0, |u| u.rss);
        m.pss += pss(pid);
    }
    m
}

/// Pss of `pid` in bytes (0 if unreadable).
fn pss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// CPU time (all threads) of `pids`, summed.
pub fn cpu(pids: &[u32]) -> Duration {
    pids.iter()
        .filter_map(|&p| procfs::usage(p))
        .map(|u| u.cpu)
        .sum()
}
