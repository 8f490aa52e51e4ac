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
mod tests {
    use super::*;

    /// A real `/proc/self/stat` line with a hostile command name.
    const STAT: &str = "4242 (edge tap) (x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
        250 75 0 0 20 0 3 0 987654 123456789 2176 18446744073709551615 1 1 0 0 0 0 0 4096 \
        17922 0 0 0 17 1 0 0 0 0 0\n";

    #[test]
    fn stat_cpu_is_utime_plus_stime_even_with_parentheses_in_comm() {
        assert_eq!(parse_stat_cpu_ticks(STAT), Some(325));
        let plain = STAT.replace("(edge tap) (x)", "(edgetap)");
        assert_eq!(parse_stat_cpu_ticks(&plain), Some(325));
        let comm_with_numbers = STAT.replace("(edge tap) (x)", "(a) 1 2 3 (b)");
        assert_eq!(parse_stat_cpu_ticks(&comm_with_numbers), Some(325));
    }

    #[test]
    fn bad_stat_is_none() {
        assert_eq!(parse_stat_cpu_ticks(""), None);
        assert_eq!(parse_stat_cpu_ticks("4242 edgetap S 1 2"), None);
        assert_eq!(parse_stat_cpu_ticks("4242 (edgetap) S 1 2 3"), None);
        let garbled = STAT.replace(" 250 75 ", " x 75 ");
        assert_eq!(parse_stat_cpu_ticks(&garbled), None);
    }

    #[test]
    fn statm_resident_pages() {
        assert_eq!(
            parse_statm_resident_pages("5430 2176 1520 344 0 1280 0\n"),
            Some(2176)
        );
        assert_eq!(parse_statm_resident_pages("5430"), None);
        assert_eq!(parse_statm_resident_pages(""), None);
    }

    fn auxv(pairs: &[(u64, u64)], word: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for &(k, v) in pairs {
            for x in [k, v] {
                match word {
                    4 => out.extend_from_slice(&(x as u32).to_ne_bytes()),
                    _ => out.extend_from_slice(&x.to_ne_bytes()),
                }
            }
        }
        out
    }

    #[test]
    fn auxv_gives_tick_rate_and_page_size_in_both_word_sizes() {
        let pairs = [
            (33, 0xffff),
            (AT_PAGESZ, 16384),
            (AT_CLKTCK, 100),
            (0, 0),
            (6, 1),
        ];
        for word in [4, 8] {
            let a = parse_auxv(&auxv(&pairs, word), word);
            assert_eq!(a.page_size, Some(16384), "word {word}");
            assert_eq!(a.clk_tck, Some(100), "word {word}");
        }
        // Stops at AT_NULL: the trailing (6, 1) is not read.
        let a = parse_auxv(&auxv(&[(0, 0), (AT_PAGESZ, 1)], 8), 8);
        assert_eq!(a, Auxv::default());
        // Truncated or odd input: nothing, no panic.
        assert_eq!(parse_auxv(&[1, 2, 3], 8), Auxv::default());
        assert_eq!(parse_auxv(&auxv(&pairs, 8), 3), Auxv::default());
    }

    #[test]
    fn cpu_percent_of_one_core() {
        let s = |ms| ProcessSample {
            cpu: Some(Duration::from_millis(ms)),
            rss_bytes: None,
        };
        let pct = cpu_percent(&s(1000), &s(1150), Duration::from_secs(10)).unwrap();
        assert!((pct - 1.5).abs() < 1e-9, "{pct}");
        assert_eq!(cpu_percent(&s(0), &s(1), Duration::ZERO), None);
        let none = ProcessSample {
            cpu: None,
            rss_bytes: None,
        };
        assert_eq!(cpu_percent(&none, &s(1), Duration::from_secs(1)), None);
        assert_eq!(ticks_to_duration(325, 100), Duration::from_millis(3250));
        assert_eq!(ticks_to_duration(1, 1024), Duration::from_nanos(976_562));
    }

    #[test]
    fn missing_proc_gives_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let probe = ProcessProbe::at(&dir.path().join("absent"));
        let s = probe.sample();
        assert_eq!(
            s,
            ProcessSample {
                cpu: None,
                rss_bytes: None
            }
        );
    }

    #[test]
    fn fixture_proc_dir_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stat"), STAT).unwrap();
        std::fs::write(dir.path().join("statm"), "5430 2176 1520 344 0 1280 0\n").unwrap();
        let word = std::mem::size_of::<usize>();
        let aux = auxv(&[(AT_PAGESZ, 4096), (AT_CLKTCK, 100), (0, 0)], word);
        std::fs::write(dir.path().join("auxv"), aux).unwrap();
        let s = ProcessProbe::at(dir.path()).sample();
        assert_eq!(s.cpu, Some(Duration::from_millis(3250)));
        assert_eq!(s.rss_bytes, Some(2176 * 4096));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let s = ProcessProbe::default().sample();
        assert!(s.rss_bytes.is_some_and(|b| b > 1 << 20), "{s:?}");
        assert!(s.cpu.is_some(), "{s:?}");
    }
}
