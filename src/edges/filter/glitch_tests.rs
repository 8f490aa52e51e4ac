//! Unit tests of `glitch`.

use super::*;

fn run(f: &mut GlitchFilter, steps: &[(Option<u8>, u64)]) -> Vec<(u8, u64)> {
    super::super::drive(f, 9, steps)
}

#[test]
fn zero_is_passthrough() {
    let mut f = GlitchFilter::new(9, 0, 1);
    assert!(f.is_passthrough());
    let got = run(&mut f, &[(Some(0), 3), (Some(1), 4), (Some(0), 5)]);
    assert_eq!(got, vec![(0, 3), (1, 4), (0, 5)]);
    assert_eq!(f.settled(7), Some(7));
}

#[test]
fn short_pulse_is_dropped() {
    let mut f = GlitchFilter::new(9, 10, 0);
    let got = run(&mut f, &[(Some(1), 100), (Some(0), 109), (None, 1000)]);
    assert!(got.is_empty());
    assert_eq!(f.level(), 0);
}

#[test]
fn next_change_exactly_at_glitch_confirms_with_original_time() {
    let mut f = GlitchFilter::new(9, 10, 0);
    assert!(run(&mut f, &[(Some(1), 100)]).is_empty());
    assert_eq!(f.settled(105), Some(99));
    // Next change at exactly 100 + 10: the level 1 lasted 10 µs, so it is reported at 100.
    assert_eq!(run(&mut f, &[(Some(0), 110)]), vec![(1, 100)]);
    assert_eq!(f.pending(), Some(110));
}

#[test]
fn advance_exactly_at_boundary_confirms() {
    let mut f = GlitchFilter::new(9, 10, 0);
    assert!(run(&mut f, &[(Some(1), 100), (None, 109)]).is_empty());
    assert_eq!(run(&mut f, &[(None, 110)]), vec![(1, 100)]);
    assert_eq!(f.settled(110), Some(110));
    assert!(run(&mut f, &[(None, 200)]).is_empty());
}

#[test]
fn change_back_cancels_then_new_change_starts_fresh() {
    let mut f = GlitchFilter::new(9, 10, 1);
    let got = run(
        &mut f,
        &[(Some(0), 10), (Some(1), 15), (Some(0), 30), (None, 39)],
    );
    assert!(got.is_empty());
    assert_eq!(run(&mut f, &[(None, 40)]), vec![(0, 30)]);
}

/// Pushes `(level, t_us, after_gap)` edges on pin 2, advances to `end`, returns what came out.
fn marked_run(f: &mut impl Stage, steps: &[(u8, u64, bool)], end: u64) -> Vec<Edge> {
    let mut out = Vec::new();
    for &(level, t_us, after_gap) in steps {
        let e = Edge {
            pin: 2,
            level,
            t_us,
            after_gap,
        };
        f.push(e, &mut |x| out.push(x));
    }
    f.advance(end, &mut |x| out.push(x));
    out
}

#[test]
fn a_change_across_a_gap_keeps_its_mark_through_the_filter() {
    let marks = |edges: Vec<Edge>| {
        edges
            .iter()
            .map(|e| (e.level, e.t_us, e.after_gap))
            .collect::<Vec<_>>()
    };
    // Held pending, confirmed later: the reported change is the one across the gap.
    let mut f = GlitchFilter::new(2, 10, 0);
    let got = marked_run(&mut f, &[(1, 100, true), (0, 200, false)], 300);
    assert_eq!(marks(got), vec![(1, 100, true), (0, 200, false)]);
    // Pass-through keeps it too.
    let mut f = GlitchFilter::new(2, 0, 0);
    let got = marked_run(&mut f, &[(1, 100, true), (0, 101, false)], 300);
    assert_eq!(marks(got), vec![(1, 100, true), (0, 101, false)]);
}
