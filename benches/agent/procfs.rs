//! What a process costs, read from /proc: CPU time of all its threads and its resident memory.

use std::path::Path;
use std::time::Duration;

/// CPU time and memory of one process at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Time on a CPU, summed over the live threads (`/proc/<pid>/task/*/schedstat`, ns resolution).
    pub cpu: Duration,
    /// User and system time of the whole process (`/proc/<pid>/stat`, clock-tick resolution).
    pub user: Duration,
    /// System time.
    pub sys: Duration,
    /// Resident set now (bytes).
    pub rss: u64,
    /// Peak resident set (bytes).
    pub hwm: u64,
}

/// Reads the usage of `pid`; `None` once it is gone.
pub fn usage(pid: u32) -> Option<Usage> {
    let base = Path::new("/proc").join(pid.to_string());
    let stat = std::fs::read_to_string(base.join("stat")).ok()?;
    // Fields after the `(comm)`, which may itself hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = Duration::from_secs(1) / clock_ticks();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(base.join("status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    let mut cpu = Duration::ZERO;
    for task in std::fs::read_dir(base.join("task")).ok()?.flatten() {
        let sched = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let ns = sched.split_whitespace().next().and_then(|n| n.parse().ok());
        cpu += Duration::from_nanos(ns.unwrap_or(0));
    }
    Some(Usage {
        cpu,
        // utime and stime are fields 14 and 15 of stat: 11 and 12 after `(comm) `.
        user: tick * field(11),
        sys: tick * field(12),
        rss: kib("VmRSS:"),
        hwm: kib("VmHWM:"),
    })
}

/// Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> u32 {
    static TICKS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t| *t > 0)
            .unwrap_or(100)
    })
}

/// Share of one core used between two readings `wall` apart, in %: the live threads'
/// schedstat run time (ns, but a thread that exited in between takes its time with it).
pub fn percent(before: Usage, after: Usage, wall: Duration) -> f64 {
    100.0 * after.cpu.saturating_sub(before.cpu).as_secs_f64() / wall.as_secs_f64()
}

/// The same share from the process-wide `utime + stime` of `/proc/<pid>/stat`: every thread,
/// exited ones included, in clock ticks (tick-sampled accounting), as `top` and `ps` see it.
pub fn process_percent(before: Usage, after: Usage, wall: Duration) -> f64 {
    let used = (after.user + after.sys).saturating_sub(before.user + before.sys);
    100.0 * used.as_secs_f64() / wall.as_secs_f64()
}
