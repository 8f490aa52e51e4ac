//! Unit tests of `rate`.

use super::*;

fn run(f: &mut RateLimiter, steps: &[(Option<u8>, u64)]) -> Vec<(u8, u64)> {
    super::super::drive(f, 5, steps)
}

/// Input edges alternating from level 1, one every `every_us` from `t0`.
fn toggles(n: u64, t0: u64, every_us: u64) -> Vec<(Option<u8>, u64)> {
    (0..n)
        .map(|i| (Some(((i + 1) % 2) as u8), t0 + i * every_us))
        .collect()
}

#[test]
fn zero_is_passthrough() {
    let mut f = RateLimiter::new(5, 0, 0);
    assert!(f.is_passthrough());
    let got = run(&mut f, &toggles(1000, 10, 1));
    assert_eq!(got.len(), 1000);
    assert_eq!(f.take_dropped(), 0);
}

#[test]
fn burst_passes_then_one_edge_per_token() {
    // 4 edges per 100 µs: a burst of 4, then a token every 25 µs.
    let mut f = RateLimiter::per_window(5, 4, 100, 0);
    assert!(!f.is_passthrough());
    let got = run(&mut f, &toggles(4, 1000, 1));
    assert_eq!(got, vec![(1, 1000), (0, 1001), (1, 1002), (0, 1003)]);
    // The bucket is empty: the next token is whole at 1003 + 25.
    assert!(run(&mut f, &[(Some(1), 1004), (Some(0), 1010)]).is_empty());
    assert_eq!(f.take_dropped(), 2);
    assert_eq!(run(&mut f, &[(Some(1), 1028)]), vec![(1, 1028)]);
    assert_eq!(f.take_dropped(), 0, "taken counts are not repeated");
}

#[test]
fn held_level_is_reported_when_a_token_comes() {
    let mut f = RateLimiter::per_window(5, 1, 100, 0);
    assert_eq!(run(&mut f, &[(Some(1), 10)]), vec![(1, 10)]);
    // Flood: 0 at 20, 1 at 30, 0 at 40, then quiet at 0 (≠ reported 1).
    assert!(run(&mut f, &[(Some(0), 20), (Some(1), 30), (Some(0), 40)]).is_empty());
    assert!(f.is_holding());
    assert!(run(&mut f, &[(None, 109)]).is_empty());
    assert_eq!(run(&mut f, &[(None, 110)]), vec![(0, 110)]);
    assert!(!f.is_holding());
    // 0@20 and 1@30 dropped; 0@40 was delayed to 110, not dropped.
    assert_eq!(f.take_dropped(), 2);
}

#[test]
fn held_level_is_reported_before_a_later_change() {
    let mut f = RateLimiter::per_window(5, 1, 100, 0);
    assert_eq!(run(&mut f, &[(Some(1), 10), (Some(0), 20)]), vec![(1, 10)]);
    // The token came at 110 while the input was 0: reported then, and the change at 150
    // waits for the next token (at 210).
    assert_eq!(run(&mut f, &[(Some(1), 150)]), vec![(0, 110)]);
    assert_eq!(run(&mut f, &[(None, 250)]), vec![(1, 210)]);
    assert_eq!(f.take_dropped(), 0);
}

#[test]
fn change_back_exactly_when_the_token_comes_drops_both() {
    // At 110 the input is back at the reported level: nothing to report, no zero-width pulse.
    let mut f = RateLimiter::per_window(5, 1, 100, 0);
    let got = run(&mut f, &[(Some(1), 10), (Some(0), 20), (Some(1), 110)]);
    assert_eq!(got, vec![(1, 10)]);
    assert_eq!(f.take_dropped(), 2);
    // The token is still there for the next change.
    assert_eq!(run(&mut f, &[(Some(0), 111)]), vec![(0, 111)]);
}

#[test]
fn bucket_refills_to_its_size_only() {
    let mut f = RateLimiter::per_window(5, 3, 30, 0);
    run(&mut f, &toggles(3, 0, 1));
    // A long silence refills 3 tokens, not more.
    let steps: Vec<_> = (0..6u64)
        .map(|i| (Some((i % 2) as u8), 1_000_000 + i))
        .collect();
    let got = run(&mut f, &steps);
    assert_eq!(got.len(), 3);
    assert_eq!(f.take_dropped(), 2, "the 4th and 5th dropped, the 6th held");
    assert!(f.is_holding());
}

#[test]
fn fractional_refill_is_exact_over_time() {
    // 3 edges per 1000 µs: tokens at 333.3…, 666.6…, 1000 µs after an empty bucket, so at
    // the first whole µs 334, 667 and 1000.
    let mut f = RateLimiter::per_window(5, 3, 1000, 0);
    run(&mut f, &toggles(3, 0, 0));
    let steps: Vec<_> = (1..=1000).map(|t| (Some((t % 2) as u8), t)).collect();
    let got = run(&mut f, &steps);
    let times: Vec<u64> = got.iter().map(|&(_, t)| t).collect();
    assert_eq!(times, vec![334, 667, 1000]);
}

#[test]
fn one_second_limit_over_a_flood() {
    // 200,000 edges/s for 2 s against 25,000/s: a second's burst plus 2 s of refill.
    let mut f = RateLimiter::new(5, 25_000, 0);
    let mut out = 0u64;
    let mut emit = |_: Edge| out += 1;
    let start = 1_764_040_000_000_000;
    for i in 0..400_000u64 {
        let e = Edge {
            pin: 5,
            level: ((i + 1) % 2) as u8,
            t_us: start + i * 5,
            after_gap: false,
        };
        f.push(e, &mut emit);
    }
    f.advance(start + 2_000_000, &mut emit);
    let held = u64::from(f.is_holding());
    let dropped = f.take_dropped();
    // At most the burst plus two seconds of refill, and every token is used.
    assert!((74_990..=75_000).contains(&out), "{out} reported");
    assert_eq!(out + dropped + held, 400_000, "every edge accounted for");
}

#[test]
fn new_limit_reports_a_held_level_and_keeps_the_count() {
    let mut f = RateLimiter::new(5, 1, 0);
    let got = run(
        &mut f,
        &[(Some(1), 10), (Some(0), 20), (Some(1), 30), (Some(0), 40)],
    );
    assert_eq!(got, vec![(1, 10)]);
    let mut out = Vec::new();
    f.set_limit(100, &mut |e: Edge| out.push((e.level, e.t_us)));
    assert_eq!(out, vec![(0, 40)]);
    assert!(!f.is_holding());
    assert_eq!(f.take_dropped(), 2);
    // A fresh, full bucket of 100.
    assert_eq!(run(&mut f, &toggles(100, 50, 1)).len(), 100);
    // Earlier than known: treated as happening at the latest known time.
    let mut f = RateLimiter::new(5, 1, 0);
    run(&mut f, &[(None, 500)]);
    f.set_limit(0, &mut |_| {});
    assert_eq!(run(&mut f, &[(Some(1), 10)]), vec![(1, 500)]);
}

#[test]
fn a_held_back_change_across_a_gap_keeps_its_mark() {
    let mut f = RateLimiter::per_window(2, 1, 100, 0);
    let mut out = Vec::new();
    let mut emit = |x: Edge| out.push((x.level, x.t_us, x.after_gap));
    let e = |level, t_us, after_gap| Edge {
        pin: 2,
        level,
        t_us,
        after_gap,
    };
    f.push(e(1, 10, false), &mut emit);
    // No token until 110: held back, then reported with the mark of its change.
    f.push(e(0, 20, true), &mut emit);
    f.advance(500, &mut emit);
    assert_eq!(out, vec![(1, 10, false), (0, 110, true)]);
}
