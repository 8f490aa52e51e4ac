//! Figure 2: the agent's own CPU and memory while sampling at 1 MS/s on the emulated Pi 4, the
//! emulator in its own process, publishing to a real mosquitto.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::procfs::{self, Usage};
use crate::rig::{self, Stamped};
use crate::support::Mosquitto;

/// What one run measured.
pub struct CpuFigures {
    /// Sample period (µs).
    pub period_us: u32,
    /// Samples per block (one consumer wake-up each).
    pub block_samples: u32,
    /// The batch window (`batch.max_age_ms`): at most one batch, one publish, per window.
    pub max_age_ms: u32,
    /// Wall time measured over.
    pub wall: Duration,
    /// Agent: % of one core, summed over its live threads' schedstat run time.
    pub agent_percent: f64,
    /// Agent: % of one core, process-wide `utime + stime` from `/proc/<pid>/stat`.
    pub agent_process_percent: f64,
    /// Agent user and system time over the window.
    pub agent_user: Duration,
    /// See `agent_user`.
    pub agent_sys: Duration,
    /// Emulator: % of one core (it stands for the DMA engine; not the agent's cost).
    pub emulator_percent: f64,
    /// Agent memory at the end of the window.
    pub agent: Usage,
    /// Edges the subscriber received over the window.
    pub edges: u64,
    /// Samples lost and overruns (from the agent's log), when it says.
    pub samples_lost: Option<u64>,
}

/// Runs the agent for `window` after a warm-up and measures it.
pub fn measure(
    period_us: u32,
    block_samples: Option<u32>,
    max_age_ms: u32,
    window: Duration,
) -> CpuFigures {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start();
    let signal = rig::demo_signal(dir.path(), 10);
    let mem = Path::new("/dev/shm").join(format!("edgetap-bench-{}", std::process::id()));
    let emulator = rig::emulator(&mem, &signal, dir.path());
    let sub = Stamped::connect(broker.port(), "edgetap/bench-cpu/edges", false);
    let config = rig::DemoConfig {
        device: "bench-cpu",
        signal: &signal,
        mem: Some(&mem),
        realtime: true,
        period_us,
        block_samples,
        max_age_ms,
        port: broker.port(),
    }
    .write(dir.path());
    let agent = rig::agent(&config, dir.path());
    let flowing = sub.wait(|s| s.messages > 10, Duration::from_secs(30));
    assert!(flowing, "no batches from the agent:\n{}", agent.log());
    std::thread::sleep(Duration::from_secs(2));

    let (a0, e0) = (usage(agent.pid()), usage(emulator.pid()));
    let (_, edges0, _) = sub.totals();
    let t0 = Instant::now();
    std::thread::sleep(window);
    let wall = t0.elapsed();
    let (a1, e1) = (usage(agent.pid()), usage(emulator.pid()));
    let (_, edges1, _) = sub.totals();
    let log = agent.stop();
    drop(emulator);
    let _ = std::fs::remove_file(&mem);
    CpuFigures {
        period_us,
        block_samples: block_samples
            .unwrap_or(edgetap::sampler::DEFAULT_BLOCK_MS * 1000 / period_us),
        max_age_ms,
        wall,
        agent_percent: procfs::percent(a0, a1, wall),
        agent_process_percent: procfs::process_percent(a0, a1, wall),
        agent_user: a1.user.saturating_sub(a0.user),
        agent_sys: a1.sys.saturating_sub(a0.sys),
        emulator_percent: procfs::percent(e0, e1, wall),
        agent: a1,
        edges: edges1 - edges0,
        samples_lost: crate::rig::logged(&log, "samples_lost"),
    }
}

fn usage(pid: u32) -> Usage {
    procfs::usage(pid).unwrap_or_else(|| panic!("process {pid} is gone"))
}
