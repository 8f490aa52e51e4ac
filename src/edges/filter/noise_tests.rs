//! Unit tests of `noise`.

use super::*;

fn run(f: &mut NoiseFilter, steps: &[(Option<u8>, u64)]) -> Vec<(u8, u64)> {
    super::super::drive(f, 4, steps)
}

#[test]
fn zero_steady_is_passthrough() {
    let mut f = NoiseFilter::new(4, 0, 100, 0);
    assert!(f.is_passthrough());
    let got = run(&mut f, &[(Some(1), 5), (Some(0), 6), (None, 1000)]);
    assert_eq!(got, vec![(1, 5), (0, 6)]);
}

#[test]
fn change_after_steady_opens_active_period_then_reverts() {
    let mut f = NoiseFilter::new(4, 10, 50, 0);
    // Stable since 0: the change at 100 is reported and opens [100, 150).
    let got = run(
        &mut f,
        &[(Some(1), 100), (Some(0), 120), (Some(1), 130), (None, 149)],
    );
    assert_eq!(got, vec![(1, 100), (0, 120), (1, 130)]);
    assert!(f.is_active());
    // At 150 the period ends and the output returns to the level stable before it (0).
    let got = run(&mut f, &[(None, 150)]);
    assert_eq!(got, vec![(0, 150)]);
    assert_eq!(f.level(), 0);
    // The input stays at 1; nothing more is reported without a change after a steady time.
    assert!(run(&mut f, &[(None, 10_000)]).is_empty());
}

#[test]
fn changes_before_steady_are_hidden_and_restart_the_timer() {
    let mut f = NoiseFilter::new(4, 10, 50, 0);
    // Start an active period and let it end at 60 with input 0 (no revert needed).
    let got = run(&mut f, &[(Some(1), 10), (Some(0), 20), (None, 60)]);
    assert_eq!(got, vec![(1, 10), (0, 20)]);
    // Steady timer restarted at 60: changes at 65 and 74 come too early (5 and 9 µs).
    assert!(run(&mut f, &[(Some(1), 65), (Some(0), 74)]).is_empty());
    // Level 0 stable from 74 to exactly 84: the change is reported.
    assert_eq!(run(&mut f, &[(Some(1), 84)]), vec![(1, 84)]);
}

#[test]
fn change_exactly_at_end_of_active_does_not_reopen() {
    let mut f = NoiseFilter::new(4, 10, 50, 0);
    assert_eq!(run(&mut f, &[(Some(1), 100)]), vec![(1, 100)]);
    // Period ends at 150 (output back to 0); the change to 0 at 150 is seen after the end.
    assert_eq!(run(&mut f, &[(Some(0), 150)]), vec![(0, 150)]);
    assert!(!f.is_active());
    // Change to 1 at 159: only 9 µs after the timer restart at 150, hidden.
    assert!(run(&mut f, &[(Some(1), 159)]).is_empty());
    // Change to 0 at 169 (10 µs of 1): reported... as 0, which is already the output.
    assert!(run(&mut f, &[(Some(0), 169)]).is_empty());
    assert!(f.is_active());
    assert_eq!(run(&mut f, &[(Some(1), 170)]), vec![(1, 170)]);
}

#[test]
fn advance_exactly_at_end_releases_revert() {
    let mut f = NoiseFilter::new(4, 10, 50, 1);
    assert_eq!(run(&mut f, &[(Some(0), 100)]), vec![(0, 100)]);
    assert!(run(&mut f, &[(None, 149)]).is_empty());
    assert_eq!(run(&mut f, &[(None, 150)]), vec![(1, 150)]);
}

#[test]
fn zero_active_gives_one_microsecond_pulse() {
    let mut f = NoiseFilter::new(4, 10, 0, 0);
    let got = run(&mut f, &[(Some(1), 100), (None, 100), (None, 101)]);
    assert_eq!(got, vec![(1, 100), (0, 101)]);
}
