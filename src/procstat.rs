//! This process's CPU time and resident memory, from `/proc/self` (Linux).
//!
//! * CPU: `utime + stime` of `/proc/self/stat` (all threads), in clock ticks.
//! * RSS: the `resident` pages of `/proc/self/statm`.
//! * Tick rate and page size: `AT_CLKTCK` and `AT_PAGESZ` of `/proc/self/auxv`, the values the
//!   kernel gave this process (a Pi 5 kernel uses 16 KiB pages), read once.
//!
//! Parsing is pure and tested on fixture text; anything missing or unreadable (no `/proc`, an
//! odd kernel) gives `None`, so the stats fields are `null`, never a panic.

use std::path::Path;
use std::time::Duration;

/// `AT_PAGESZ` in the auxiliary vector.
const AT_PAGESZ: u64 = 6;
/// `AT_CLKTCK` in the auxiliary vector.
const AT_CLKTCK: u64 = 17;
/// `USER_HZ`: the tick rate of `/proc` times on every Linux architecture a Pi runs, used when
/// the auxiliary vector cannot be read.
const DEFAULT_CLK_TCK: u64 = 100;

/// One reading of the process's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessSample {
    /// User + system CPU time used so far, all threads.
    pub cpu: Option<Duration>,
    /// Resident set size now, in bytes.
    pub rss_bytes: Option<u64>,
}

/// Reads [`ProcessSample`]s of this process.
#[derive(Debug, Clone)]
pub struct ProcessProbe {
    proc_dir: std::path::PathBuf,
    clk_tck: u64,
    page_size: Option<u64>,
}

impl Default for ProcessProbe {
    fn default() -> Self {
        Self::at(Path::new("/proc/self"))
    }
}

impl ProcessProbe {
    /// A probe of the process described by `proc_dir` (normally `/proc/self`).
    pub fn at(proc_dir: &Path) -> Self {
        let aux = std::fs::read(proc_dir.join("auxv"))
            .map(|b| parse_auxv(&b, std::mem::size_of::<usize>()))
            .unwrap_or_default();
        ProcessProbe {
            proc_dir: proc_dir.to_path_buf(),
            clk_tck: aux.clk_tck.filter(|&t| t > 0).unwrap_or(DEFAULT_CLK_TCK),
            page_size: aux.page_size.filter(|&p| p > 0),
        }
    }

    /// CPU time and RSS now; each `None` when it cannot be read.
    pub fn sample(&self) -> ProcessSample {
        let read = |name| std::fs::read_to_string(self.proc_dir.join(name)).ok();
        let cpu = read("stat")
            .as_deref()
            .and_then(parse_stat_cpu_ticks)
            .map(|ticks| ticks_to_duration(ticks, self.clk_tck));
        let rss_bytes = read("statm")
            .as_deref()
            .and_then(parse_statm_resident_pages)
            .zip(self.page_size)
            .map(|(pages, size)| pages.saturating_mul(size));
        ProcessSample { cpu, rss_bytes }
    }
}

fn ticks_to_duration(ticks: u64, clk_tck: u64) -> Duration {
    let secs = ticks / clk_tck;
    let rest = ticks % clk_tck;
    Duration::from_secs(secs) + Duration::from_nanos(rest * 1_000_000_000 / clk_tck)
}

/// `utime + stime` (fields 14 and 15, clock ticks) of a `/proc/<pid>/stat` line. The command
/// name (field 2) is in parentheses and may itself hold spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let mut fields = rest.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime.saturating_add(stime))
}

/// The resident pages (field 2) of a `/proc/<pid>/statm` line.
pub fn parse_statm_resident_pages(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

/// What edgetap needs from the auxiliary vector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auxv {
    /// `AT_CLKTCK`: clock ticks per second of `/proc` times.
    pub clk_tck: Option<u64>,
    /// `AT_PAGESZ`: bytes per page.
    pub page_size: Option<u64>,
}

/// Parses `/proc/<pid>/auxv`: (type, value) pairs of native-endian words of `word` bytes (4 or
/// 8), ended by type 0.
pub fn parse_auxv(bytes: &[u8], word: usize) -> Auxv {
    let mut aux = Auxv::default();
    if word != 4 && word != 8 {
        return aux;
    }
    let read = |w: &[u8]| match word {
        4 => w.try_into().map(|a| u64::from(u32::from_ne_bytes(a))).ok(),
        _ => w.try_into().map(u64::from_ne_bytes).ok(),
    };
    for pair in bytes.chunks_exact(2 * word) {
        let (Some(kind), Some(value)) = (read(&pair[..word]), read(&pair[word..])) else {
            break;
        };
        match kind {
            0 => break,
            AT_CLKTCK => aux.clk_tck = Some(value),
            AT_PAGESZ => aux.page_size = Some(value),
            _ => {}
        }
    }
    aux
}

/// CPU use between two samples `elapsed` apart, in % of one core (200 = two cores busy).
/// `None` when either sample lacks the CPU time or no time elapsed.
pub fn cpu_percent(
    before: &ProcessSample,
    after: &ProcessSample,
    elapsed: Duration,
) -> Option<f64> {
    let used = after.cpu?.saturating_sub(before.cpu?);
    let secs = elapsed.as_secs_f64();
    (secs > 0.0).then(|| used.as_secs_f64() / secs * 100.0)
}

#[cfg(test)]
#[path = "procstat_tests.rs"]
mod tests;
