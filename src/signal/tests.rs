//! Generator tests: exact edge counts, bounce bounds, determinism, demo file size.

use super::*;
use crate::vcd::{parse, Change};

const MS: u128 = 1_000_000_000_000;

fn on_pin(t: &Trace, pin: u8) -> Vec<Change> {
    t.changes()
        .iter()
        .copied()
        .filter(|c| c.pin == pin)
        .collect()
}

#[test]
fn one_khz_train_has_exactly_the_expected_edges() {
    let mut b = TraceBuilder::new();
    PulseTrain::new(18, 1_000.0).add_to(&mut b, 10_000 * MS);
    let t = b.build();
    let cs = t.changes();
    // Rising at 1, 2, … 10000 ms; falling at 0.5, 1.5, … 9999.5 ms.
    assert_eq!(cs.len(), 20_000);
    assert_eq!(t.initial(), 1 << 18);
    assert_eq!((cs[0].t_fs, cs[0].level), (MS / 2, 0));
    assert_eq!((cs[1].t_fs, cs[1].level), (MS, 1));
    assert!(cs.windows(2).all(|w| w[1].t_fs - w[0].t_fs == MS / 2));
    assert_eq!(cs.last().map(|c| (c.t_fs, c.level)), Some((10_000 * MS, 1)));
}

#[test]
fn duty_and_phase() {
    let mut b = TraceBuilder::new();
    // 100 Hz (10 ms), 20 % duty, quarter-period advance: low at 0, rising at 7.5 ms.
    PulseTrain::new(3, 100.0)
        .duty(0.2)
        .phase(0.25)
        .add_to(&mut b, 30 * MS);
    let t = b.build();
    assert_eq!(t.initial(), 0);
    let cs: Vec<_> = t.changes().iter().map(|c| (c.t_fs, c.level)).collect();
    let ms = |x: f64| (x * MS as f64) as u128;
    assert_eq!(
        cs,
        vec![
            (ms(7.5), 1),
            (ms(9.5), 0),
            (ms(17.5), 1),
            (ms(19.5), 0),
            (ms(27.5), 1),
            (ms(29.5), 0)
        ]
    );
    for (duty, level) in [(0.0, 0), (1.0, 1)] {
        let mut b = TraceBuilder::new();
        PulseTrain::new(3, 100.0).duty(duty).add_to(&mut b, 30 * MS);
        let t = b.build();
        assert!(t.changes().is_empty());
        assert_eq!(t.initial() >> 3, level);
    }
    let mut b = TraceBuilder::new();
    PulseTrain::new(3, f64::NAN).add_to(&mut b, 30 * MS);
    assert!(b.build().changes().is_empty());
}

#[test]
fn bounces_stay_within_bounds() {
    let sw = BouncingSwitch::new(17, 42);
    let mut b = TraceBuilder::new();
    sw.add_to(&mut b, 60_000_000);
    let t = b.build();
    let cs = on_pin(&t, 17);
    // Split into bursts at the long quiet intervals.
    let mut bursts: Vec<Vec<Change>> = Vec::new();
    let mut last = 0;
    for c in cs {
        if bursts.is_empty() || c.t_fs - last > 500 * 1_000_000_000 {
            bursts.push(Vec::new());
        }
        last = c.t_fs;
        bursts.last_mut().unwrap().push(c);
    }
    assert!(bursts.len() >= 25, "{} transitions in 60 s", bursts.len());
    let mut level = 1;
    for (i, burst) in bursts.iter().enumerate() {
        let complete = i + 1 < bursts.len();
        if complete {
            assert!((7..=21).contains(&burst.len()), "burst of {}", burst.len());
            assert_eq!(burst.len() % 2, 1);
        }
        for w in burst.windows(2) {
            let gap_us = (w[1].t_fs - w[0].t_fs) / 1_000_000_000;
            assert!((20..=500).contains(&gap_us), "bounce of {gap_us} µs");
        }
        level ^= 1;
        assert_eq!(burst[0].level, level, "burst starts with the transition");
        if complete {
            assert_eq!(burst.last().unwrap().level, level, "burst settles");
        }
    }
}

#[test]
fn slow_sensor_holds_levels() {
    let mut b = TraceBuilder::new();
    SlowSensor::new(27, 9).add_to(&mut b, 60_000_000);
    let t = b.build();
    let mut prev = 0;
    for c in t.changes() {
        let hold = c.t_fs - prev;
        assert!((300 * MS..=3_000 * MS).contains(&hold), "{hold}");
        prev = c.t_fs;
    }
    assert!(t.changes().len() >= 20);
}

#[test]
fn generators_are_deterministic_per_seed() {
    assert_eq!(demo(5), demo(5));
    let gen = |seed| {
        let mut b = TraceBuilder::new();
        BouncingSwitch::new(1, seed).add_to(&mut b, 20_000_000);
        SlowSensor::new(2, seed).add_to(&mut b, 20_000_000);
        b.build()
    };
    assert_eq!(gen(1), gen(1));
    assert_ne!(gen(1), gen(2));
}

#[test]
fn demo_combines_three_pins_and_stays_small() {
    let t = demo(10);
    assert_eq!(t.pins(), 1 << 17 | 1 << 18 | 1 << 27);
    assert_eq!(t.end_fs(), 10_000 * MS);
    assert_eq!(on_pin(&t, 18).len(), 20_000);
    assert!(on_pin(&t, 17).len() >= 5 * 7);
    assert!(!on_pin(&t, 27).is_empty());
    let mut out = Vec::new();
    write_vcd(&t, &mut out).unwrap();
    assert!(out.len() < 400_000, "demo.vcd is {} bytes", out.len());
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("$timescale 1 us $end"));
    assert_eq!(parse(&text).unwrap(), t);
}
