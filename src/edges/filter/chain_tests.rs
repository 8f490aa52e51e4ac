//! Unit tests of `chain`.

use super::*;
use crate::edges::filter::FilterSettings;

fn settings(glitch_us: u64, lockout_us: u64, steady: u64, active: u64) -> PinSettings {
    PinSettings::unlimited(FilterSettings {
        glitch_us,
        lockout_us,
        noise_steady_us: steady,
        noise_active_us: active,
    })
}

fn e(level: u8, t_us: u64) -> Edge {
    Edge {
        pin: 17,
        level,
        t_us,
        after_gap: false,
    }
}

#[test]
fn default_settings_pass_through() {
    let mut f = PinFilter::new(17, PinSettings::default(), 0);
    assert!(f.is_passthrough());
    let mut out = Vec::new();
    for (i, t) in [5u64, 6, 100].into_iter().enumerate() {
        f.push(e(((i + 1) % 2) as u8, t), &mut out);
    }
    f.advance(1000, &mut out);
    assert_eq!(out, vec![e(1, 5), e(0, 6), e(1, 100)]);
    assert_eq!(f.level(), 1);
}

#[test]
fn glitch_then_lockout_keeps_press_time() {
    // A bouncy press at 1000: spikes shorter than 50 µs, then held.
    let mut f = PinFilter::new(17, settings(50, 10_000, 0, 0), 0);
    assert!(!f.is_passthrough());
    let mut out = Vec::new();
    for (lvl, t) in [(1, 1000), (0, 1010), (1, 1020), (0, 1100), (1, 1200)] {
        f.push(e(lvl, t), &mut out);
    }
    // The pulse [1020, 1100) lasted 80 µs: reported at 1020 once confirmed.
    assert_eq!(out, vec![e(1, 1020)]);
    // The drop at 1100 lasted 100 µs too, but falls in the lockout [1020, 11020).
    f.advance(11_019, &mut out);
    assert_eq!(out, vec![e(1, 1020)]);
    f.advance(20_000, &mut out);
    assert_eq!(out, vec![e(1, 1020)]);
    assert_eq!(f.level(), 1);
}

#[test]
fn lockout_waits_for_pending_glitch() {
    let mut f = PinFilter::new(17, settings(10, 100, 0, 0), 0);
    let mut out = Vec::new();
    f.push(e(1, 0), &mut out);
    f.push(e(0, 10), &mut out); // confirms 1@0: reported, lockout [0, 100)
    f.advance(95, &mut out); // confirms 0@10: held back by the lockout
    f.push(e(1, 98), &mut out); // pending until 108
                                // At 100 the lockout would report 0, but the glitch stage may still report 1@98: the
                                // lockout must not be advanced past 97 yet.
    f.advance(105, &mut out);
    assert_eq!(out, vec![e(1, 0)]);
    // 1@98 confirmed: at 100 the input is back at the reported level, nothing to report.
    f.advance(108, &mut out);
    f.advance(1000, &mut out);
    assert_eq!(out, vec![e(1, 0)]);
    assert_eq!(f.level(), 1);
}

#[test]
fn rate_limit_counts_only_what_the_lockout_lets_through() {
    let s = PinSettings {
        max_edges_per_s: 1,
        ..settings(0, 100, 0, 0)
    };
    let mut f = PinFilter::new(17, s, 0);
    assert!(!f.is_passthrough());
    let mut out = Vec::new();
    for (lvl, t) in [(1, 0), (0, 50), (1, 150)] {
        f.push(e(lvl, t), &mut out);
    }
    f.advance(1000, &mut out);
    // The lockout reports 1@0, 0@100, 1@200; the one-token bucket lets 1@0 through only, and
    // the two others cancel out: 2 dropped, not the 3 raw changes after the first.
    assert_eq!(out, vec![e(1, 0)]);
    assert_eq!(f.take_rate_limited(), 2);
    assert_eq!(f.level(), 1);
}

#[test]
fn new_rate_limit_keeps_the_other_filters_state() {
    let s = PinSettings {
        max_edges_per_s: 1,
        ..settings(0, 100, 0, 0)
    };
    let mut f = PinFilter::new(17, s, 0);
    let mut out = Vec::new();
    f.push(e(1, 0), &mut out);
    f.push(e(0, 10), &mut out);
    f.advance(100, &mut out);
    // The lockout reported 0@100; the limiter, out of tokens, holds it back.
    assert_eq!(out, vec![e(1, 0)]);
    f.set_rate_limit(5, &mut out);
    assert_eq!(f.settings().max_edges_per_s, 5);
    assert_eq!(out, vec![e(1, 0), e(0, 100)], "the held level is reported");
    // The lockout window that began at 100 is still running: 1@150 waits for 200.
    f.push(e(1, 150), &mut out);
    f.advance(199, &mut out);
    assert_eq!(out.len(), 2);
    f.advance(200, &mut out);
    assert_eq!(out, vec![e(1, 0), e(0, 100), e(1, 200)]);
    assert_eq!(f.take_rate_limited(), 0);
}
