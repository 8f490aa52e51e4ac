//! Unit tests of `procstat`.

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
