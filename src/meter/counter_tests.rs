use super::*;
use crate::meter::CountMode;

const T0: u64 = 1_700_000_000_000_000;

fn edge(t_us: u64, level: u8) -> Edge {
    Edge {
        pin: 22,
        level,
        t_us,
        after_gap: false,
    }
}

fn kwh_meter() -> Meter {
    let config = MeterConfig {
        pulses_per_unit: 1000.0,
        unit: "kWh".into(),
        ..MeterConfig::default()
    };
    Meter::new(22, config, 0)
}

/// A square wave: rises every `period` from `start`, high for `high`, until `end`.
fn square(m: &mut Meter, start: u64, period: u64, high: u64, end: u64) {
    let mut t = start;
    while t + high < end {
        m.push(&edge(t, 1));
        m.push(&edge(t + high, 0));
        t += period;
    }
}

#[test]
fn a_37_hz_meter_reads_exactly() {
    let mut m = kwh_meter();
    m.set_level(0);
    let first = m.poll(T0).expect("first poll reports at once");
    assert_eq!(
        (first.pulses, first.frequency_hz, first.rate),
        (0, None, 0.0)
    );
    // 37 Hz: 27 027 µs periods, 10 000 µs high.
    square(&mut m, T0 + 1000, 27_027, 10_000, T0 + 10_000_000);
    assert_eq!(m.poll(T0 + 9_999_999), None);
    let r = m.poll(T0 + 10_000_000).expect("boundary");
    assert_eq!(r.pulses, 370);
    assert_eq!(r.total, 0.37);
    assert_eq!(r.unit, "kWh");
    assert_eq!(r.rate_unit, "kW");
    let f = r.frequency_hz.expect("frequency");
    assert!((f - 1e6 / 27_027.0).abs() < 1e-9, "{f}");
    let p = r.period_us.expect("periods");
    assert_eq!((p.min, p.max), (27_027, 27_027));
    assert!((p.avg - 27_027.0).abs() < 1e-9);
    let h = r.high_us.expect("widths");
    assert_eq!((h.min, h.max), (10_000, 10_000));
    let duty = r.duty.expect("duty");
    assert!((duty - 10_000.0 / 27_027.0).abs() < 1e-9, "{duty}");
    // 37 pulses/s of 1/1000 kWh = 0.037 kWh/s = 133.2 kW.
    assert!((r.rate - f / 1000.0 * 3600.0).abs() < 1e-9, "{}", r.rate);
}

#[test]
fn count_modes_pick_their_edges() {
    for (mode, want) in [
        (CountMode::Rising, 3),
        (CountMode::Falling, 2),
        (CountMode::Both, 5),
    ] {
        let config = MeterConfig {
            count: mode,
            ..MeterConfig::default()
        };
        let mut m = Meter::new(1, config, 0);
        m.set_level(0);
        for (i, t) in [10, 20, 30, 40, 50].into_iter().enumerate() {
            m.push(&edge(T0 + t, 1 - (i % 2) as u8));
        }
        assert_eq!(m.pulses(), want, "{mode:?}");
    }
}

#[test]
fn fewer_than_two_pulses_give_no_metrics() {
    let mut m = kwh_meter();
    m.set_level(0);
    m.poll(T0);
    m.push(&edge(T0 + 100, 1));
    m.push(&edge(T0 + 200, 0));
    let r = m.poll(T0 + 10_000_000).expect("a pulse was counted");
    assert_eq!(r.pulses, 1);
    assert_eq!(
        (r.frequency_hz, r.period_us, r.high_us, r.duty),
        (None, None, None, None)
    );
}

#[test]
fn no_period_or_width_spans_a_gap() {
    let mut m = Meter::new(22, MeterConfig::default(), 0);
    m.set_level(0);
    m.poll(T0);
    m.push(&edge(T0 + 1_000, 1));
    m.push(&edge(T0 + 1_500, 0));
    m.push(&edge(T0 + 2_000, 1));
    m.gap(&Gap {
        from_us: T0 + 2_100,
        to_us: T0 + 50_000,
        samples: 100,
        edges: 0,
    });
    m.push(&edge(T0 + 60_000, 0));
    m.push(&edge(T0 + 61_000, 1));
    m.push(&edge(T0 + 61_200, 0));
    m.push(&Edge {
        after_gap: true,
        ..edge(T0 + 90_000, 1)
    });
    m.push(&edge(T0 + 91_000, 0));
    m.push(&edge(T0 + 92_000, 1));
    let r = m.poll(T0 + 10_000_000).expect("pulses");
    assert_eq!(r.pulses, 5);
    // Periods: 1000 before the gap, 2000 after the after_gap edge; none across either.
    let p = r.period_us.expect("periods");
    assert_eq!((p.min, p.max), (1_000, 2_000), "{p:?}");
    let h = r.high_us.expect("widths");
    // High 500 before the gap; 200 between the gap and after_gap; 1000 after it.
    assert_eq!((h.min, h.max), (200, 1_000), "{h:?}");
}

#[test]
fn the_rate_decays_when_pulses_stop_and_reports_only_on_change() {
    let mut m = Meter::new(22, MeterConfig::default(), 0);
    m.set_level(0);
    m.poll(T0);
    square(&mut m, T0, 100_000, 50_000, T0 + 10_000_000); // 10 Hz, last rise at T0+9.9 s
    let r = m.poll(T0 + 10_000_000).expect("pulses");
    assert!(
        (r.rate - 600.0).abs() < 1e-9,
        "10 Hz = 600 pulses/min: {}",
        r.rate
    );
    // No pulse for the next interval: at most one pulse per 10.1 s since the last one.
    let r = m.poll(T0 + 20_000_000).expect("the rate changed");
    assert!((r.rate - 60.0 / 10.1).abs() < 1e-9, "{}", r.rate);
    m.silence();
    let r = m.poll(T0 + 30_000_000).expect("the rate changed");
    assert_eq!(r.rate, 0.0);
    assert_eq!(m.poll(T0 + 40_000_000), None, "nothing changed");
}

#[test]
fn new_settings_keep_the_total_and_reset_zeroes_it() {
    let mut m = kwh_meter();
    m.set_level(0);
    m.poll(T0);
    square(&mut m, T0, 1_000, 500, T0 + 100_000);
    assert_eq!(m.pulses(), 100);
    m.set_config(MeterConfig {
        interval_s: 60,
        pulses_per_unit: 500.0,
        ..m.config().clone()
    });
    assert_eq!(m.pulses(), 100);
    let r = m.poll(T0 + 200_000).expect("new settings report at once");
    assert_eq!((r.pulses, r.total), (100, 0.2));
    assert_eq!(
        m.poll(T0 + 59_000_000),
        None,
        "the new interval runs from the report"
    );
    m.reset();
    let r = m.poll(T0 + 60_200_000).expect("a reset reports");
    assert_eq!((r.pulses, r.total), (0, 0.0));
}
