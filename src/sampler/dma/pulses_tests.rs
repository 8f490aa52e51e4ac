//! Unit tests of `pulses`.

use super::*;

#[test]
fn the_schedule_goes_down_to_one_period_at_every_phase() {
    let plan = schedule(5);
    assert_eq!(plan.len() as u64, REPEATS * WIDTHS.len() as u64);
    let widths: std::collections::BTreeSet<u64> = plan.iter().map(|p| p.width_us).collect();
    assert_eq!(widths.into_iter().collect::<Vec<_>>(), [6, 11, 26, 101]);
    let phases: std::collections::BTreeSet<u64> = plan.iter().map(|p| p.gap_us % 5).collect();
    assert_eq!(phases.len(), 5, "gaps at every phase of the period");
    assert!(plan
        .iter()
        .all(|p| p.gap_us >= 2 * error_bound_us(5) && p.gap_us >= p.width_us));
    // 10 × (101 + 404), (26 + 104), (11 + 50), (6 + 50), and the phases 0–4 twice per width.
    assert_eq!(schedule_us(&plan), 5050 + 1300 + 610 + 560 + 4 * 20);
    // Slow periods scale: the gaps stay ten periods.
    assert!(schedule(1000).iter().all(|p| p.gap_us >= 10_000));
}

#[test]
fn edges_pair_into_pulses() {
    let edges = [
        (5, false), // started high: no pulse
        (10, true),
        (15, false),
        (30, true),
        (30, true), // a repeated level changes nothing
        (42, false),
        (50, true),
    ];
    assert_eq!(
        captured(edges),
        [
            Captured {
                rise_us: 10,
                fall_us: Some(15)
            },
            Captured {
                rise_us: 30,
                fall_us: Some(42)
            },
            Captured {
                rise_us: 50,
                fall_us: None
            },
        ]
    );
}

fn driven(rise_us: u64, fall_us: u64) -> Driven {
    Driven {
        rise_us,
        fall_us,
        timed: true,
    }
}

fn seen(rise_us: u64, fall_us: u64) -> Captured {
    Captured {
        rise_us,
        fall_us: Some(fall_us),
    }
}

#[test]
fn matched_pulses_give_errors_and_the_rest_is_missed_or_extra() {
    let d = [
        driven(100, 105),
        driven(200, 210),
        driven(300, 305),
        driven(400, 420),
    ];
    // 100 seen 2 µs late, 200 lost, 300 seen twice (a glitch), 400 never fell.
    let c = [
        seen(102, 107),
        seen(303, 306),
        seen(306, 308),
        Captured {
            rise_us: 401,
            fall_us: None,
        },
    ];
    let cmp = compare(&d, &c);
    assert_eq!(cmp.driven, 4);
    assert_eq!(cmp.missed, [1, 3]);
    assert_eq!(cmp.seen(), 2);
    assert_eq!(cmp.extra, 1);
    assert_eq!(cmp.errors_us, [2, 2, 3, 1]);
}

#[test]
fn untimed_pulses_count_but_give_no_error() {
    let d = [Driven {
        timed: false,
        ..driven(100, 105)
    }];
    let cmp = compare(&d, &[seen(140, 150)]);
    assert!(cmp.missed.is_empty() && cmp.extra == 0 && cmp.errors_us.is_empty());
}

#[test]
fn nothing_driven_makes_every_capture_extra() {
    let cmp = compare(&[], &[seen(1, 2)]);
    assert_eq!((cmp.extra, cmp.seen()), (1, 0));
}

#[test]
fn error_statistics() {
    assert_eq!(error_stats(&[]), None);
    let s = error_stats(&[2, -4, 3, 3]).expect("stats");
    assert_eq!(s.mean_us, 1.0);
    assert_eq!((s.p99_us, s.max_us), (4, 4));
    // 200 errors: the 99th percentile is the 198th smallest magnitude.
    let errors: Vec<i64> = (1..=200).collect();
    let s = error_stats(&errors).expect("stats");
    assert_eq!((s.p99_us, s.max_us), (198, 200));
    assert_eq!(error_bound_us(5), 15);
}
