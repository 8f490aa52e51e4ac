//! Trace building and cursor tests.

use crate::vcd::*;
use proptest::prelude::*;

#[test]
fn builder_sorts_merges_and_drops_noops() {
    let mut b = TraceBuilder::new();
    b.initial(3, 1)
        .change(30, 3, 0)
        .change(10, 4, 1)
        .change(20, 3, 1) // no-op: already high
        .change(30, 4, 0)
        .change(30, 4, 1) // last wins: 4 stays high at 30
        .change(0, 5, 1)
        .change(40, 60, 1); // dropped: no such GPIO
    let t = b.build();
    assert_eq!(t.pins(), 1 << 3 | 1 << 4 | 1 << 5);
    assert_eq!(t.initial(), 1 << 3 | 1 << 5);
    let cs: Vec<_> = t
        .changes()
        .iter()
        .map(|c| (c.t_fs, c.pin, c.level))
        .collect();
    assert_eq!(cs, vec![(10, 4, 1), (30, 3, 0)]);
    assert_eq!(t.end_fs(), 30, "a dropped change does not extend the end");
    assert_eq!(t.final_levels(), 1 << 4 | 1 << 5);
}

#[test]
fn level_at_includes_changes_at_that_instant() {
    let mut b = TraceBuilder::new();
    b.change_us(10, 1, 1).change_us(20, 1, 0);
    let t = b.build();
    let us = |u: u128| u * FS_PER_US;
    assert_eq!(t.level_at(us(10) - 1), 0);
    assert_eq!(t.level_at(us(10)), 2);
    assert_eq!(t.level_at(us(20)), 0);
    let mut c = t.cursor();
    assert_eq!(c.level_at(us(10)), 2);
    assert_eq!(c.next_change_fs(), Some(us(20)));
    assert_eq!(c.level_at(us(25)), 0);
    assert_eq!(c.next_change_fs(), None);
    // Going back rescans instead of answering wrongly.
    assert_eq!(c.level_at(us(15)), 2);
}

fn arb_trace() -> impl Strategy<Value = Trace> {
    (
        any::<u64>(),
        proptest::collection::vec((0u128..2_000, 0u8..54, 0u8..2), 0..60),
    )
        .prop_map(|(init, cs)| {
            let mut b = TraceBuilder::new();
            for pin in 0..54u8 {
                b.initial(pin, (init >> pin & 1) as u8);
            }
            for (t, pin, level) in cs {
                b.change(t, pin, level);
            }
            b.build()
        })
}

proptest! {
    #[test]
    fn cursor_matches_naive_scan(t in arb_trace(), mut times in proptest::collection::vec(0u128..2_100, 0..50)) {
        times.sort_unstable();
        let mut c = t.cursor();
        for at in times {
            let naive = t.changes().iter().filter(|ch| ch.t_fs <= at).fold(t.initial(), |w, ch| {
                if ch.level == 1 { w | 1 << ch.pin } else { w & !(1 << ch.pin) }
            });
            prop_assert_eq!(c.level_at(at), naive);
            prop_assert_eq!(t.level_at(at), naive);
        }
    }

    #[test]
    fn built_changes_are_real_transitions(t in arb_trace()) {
        let mut w = t.initial();
        let mut last = 0;
        for c in t.changes() {
            prop_assert!(c.t_fs > 0 && c.t_fs >= last && c.t_fs <= t.end_fs());
            prop_assert_ne!(w >> c.pin & 1, u64::from(c.level));
            w ^= 1 << c.pin;
            last = c.t_fs;
        }
    }
}

#[test]
fn float_and_drive_at_one_instant_last_wins_and_floats_count_for_equality() {
    let mut b = TraceBuilder::new();
    b.change_us(0, 3, 1).float(FS_PER_US, 3).change_us(1, 3, 1);
    b.float(2 * FS_PER_US, 3);
    let t = b.build();
    // At 1 µs the pin ends up driven high (no change: it already was), floating from 2 µs.
    assert_eq!(t.changes().len(), 1);
    assert_eq!(t.floats().len(), 1);
    assert_eq!(t.floats()[0].t_fs, 2 * FS_PER_US);
    let mut driven = TraceBuilder::new();
    driven.change_us(0, 3, 1).change_us(2, 3, 0);
    assert_eq!(driven.build().changes(), t.changes());
    assert_ne!(driven.build(), t, "a z is not a driven 0");
}
