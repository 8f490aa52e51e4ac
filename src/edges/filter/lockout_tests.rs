//! Unit tests of `lockout`.

use super::*;

fn run(f: &mut LockoutFilter, steps: &[(Option<u8>, u64)]) -> Vec<(u8, u64)> {
    super::super::drive(f, 2, steps)
}

#[test]
fn zero_is_passthrough() {
    let mut f = LockoutFilter::new(2, 0, 0);
    assert!(f.is_passthrough());
    let got = run(&mut f, &[(Some(1), 1), (Some(0), 2), (None, 9)]);
    assert_eq!(got, vec![(1, 1), (0, 2)]);
}

#[test]
fn bounces_inside_window_are_swallowed() {
    let mut f = LockoutFilter::new(2, 100, 0);
    let got = run(
        &mut f,
        &[(Some(1), 10), (Some(0), 12), (Some(1), 15), (None, 500)],
    );
    // Input ends at 1 = reported level: nothing at the end of the window.
    assert_eq!(got, vec![(1, 10)]);
    assert_eq!(f.window_end(), None);
}

#[test]
fn level_differing_at_end_is_reported_at_exactly_end() {
    let mut f = LockoutFilter::new(2, 100, 0);
    let got = run(&mut f, &[(Some(1), 10), (Some(0), 50), (None, 109)]);
    assert_eq!(got, vec![(1, 10)]);
    assert_eq!(run(&mut f, &[(None, 110)]), vec![(0, 110)]);
    // That report starts a new window [110, 210).
    assert_eq!(f.window_end(), Some(210));
    assert!(run(&mut f, &[(Some(1), 150), (Some(0), 209)]).is_empty());
}

#[test]
fn change_exactly_at_end_after_resolving() {
    // End resolves with a report, then the change at the same time is inside the new window.
    let mut f = LockoutFilter::new(2, 100, 0);
    let got = run(&mut f, &[(Some(1), 10), (Some(0), 50), (Some(1), 110)]);
    assert_eq!(got, vec![(1, 10), (0, 110)]);
    assert_eq!(run(&mut f, &[(None, 210)]), vec![(1, 210)]);

    // End resolves without a report, so the change at the same time is reported at once.
    let mut f = LockoutFilter::new(2, 100, 0);
    let got = run(&mut f, &[(Some(1), 10), (Some(0), 110)]);
    assert_eq!(got, vec![(1, 10), (0, 110)]);
    assert_eq!(f.window_end(), Some(210));
}

#[test]
fn late_change_after_expired_windows() {
    let mut f = LockoutFilter::new(2, 100, 0);
    // Window [10,110) ends with input 0 -> report at 110, window [110,210) ends quietly.
    let got = run(&mut f, &[(Some(1), 10), (Some(0), 20), (Some(1), 1000)]);
    assert_eq!(got, vec![(1, 10), (0, 110), (1, 1000)]);
}

/// Pushes `(level, t_us, after_gap)` edges on pin 2, advances to `end`, returns
/// `(level, t_us, after_gap)` of what came out.
fn marked_run(f: &mut LockoutFilter, steps: &[(u8, u64, bool)], end: u64) -> Vec<(u8, u64, bool)> {
    let mut out = Vec::new();
    let mut emit = |x: Edge| out.push((x.level, x.t_us, x.after_gap));
    for &(level, t_us, after_gap) in steps {
        let e = Edge {
            pin: 2,
            level,
            t_us,
            after_gap,
        };
        f.push(e, &mut emit);
    }
    f.advance(end, &mut emit);
    out
}

#[test]
fn a_change_across_a_gap_keeps_its_mark_through_the_filter() {
    // Reported at once.
    let mut f = LockoutFilter::new(2, 100, 0);
    let got = marked_run(&mut f, &[(1, 10, true), (0, 500, false)], 1000);
    assert_eq!(got, vec![(1, 10, true), (0, 500, false)]);
    // Held back in a window and reported at its end: still the change across the gap.
    let mut f = LockoutFilter::new(2, 100, 0);
    let got = marked_run(&mut f, &[(1, 10, false), (0, 50, true)], 1000);
    assert_eq!(got, vec![(1, 10, false), (0, 110, true)]);
    // Pass-through.
    let mut f = LockoutFilter::new(2, 0, 0);
    let got = marked_run(&mut f, &[(1, 10, true), (0, 11, false)], 1000);
    assert_eq!(got, vec![(1, 10, true), (0, 11, false)]);
}
