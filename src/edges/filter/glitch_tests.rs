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
