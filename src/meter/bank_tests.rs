use super::*;

const T0: u64 = 1_000_000_000;

fn edge(pin: u8, t_us: u64, level: u8) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

fn input(pin: u8, meter: Option<MeterConfig>, watchdog_ms: u64) -> MeterInput {
    MeterInput {
        pin,
        meter,
        watchdog_ms,
    }
}

fn pulses(m: &mut Meters, pin: u8, from: u64, n: u64) {
    for i in 0..n {
        m.push(&edge(pin, from + i * 1000, 1));
        m.push(&edge(pin, from + i * 1000 + 500, 0));
    }
}

#[test]
fn totals_start_from_what_was_saved_and_survive_new_settings() {
    let saved = BTreeMap::from([(22, 1_000), (5, 77)]);
    let inputs = [
        input(22, Some(MeterConfig::default()), 0),
        input(23, None, 0),
    ];
    let mut m = Meters::new(&inputs, &saved);
    m.set_levels(&[PinLevel { pin: 22, level: 0 }]);
    pulses(&mut m, 22, T0, 10);
    pulses(&mut m, 23, T0, 10);
    assert_eq!(m.totals(), BTreeMap::from([(22, 1_010)]));
    // New interval and unit: same total.
    let changed = MeterConfig {
        interval_s: 30,
        unit: "L".into(),
        ..MeterConfig::default()
    };
    m.reconfigure(&[input(22, Some(changed.clone()), 0)], &[]);
    assert_eq!(m.totals(), BTreeMap::from([(22, 1_010)]));
    // Only a reset zeroes it.
    m.reconfigure(&[input(22, Some(changed), 0)], &[22]);
    assert_eq!(m.totals(), BTreeMap::from([(22, 0)]));
}

#[test]
fn saves_every_persist_s_when_changed_and_at_once_after_a_reset() {
    let config = MeterConfig {
        persist_s: 60,
        ..MeterConfig::default()
    };
    let inputs = [input(22, Some(config.clone()), 0)];
    let mut m = Meters::new(&inputs, &BTreeMap::new());
    m.set_levels(&[PinLevel { pin: 22, level: 0 }]);
    assert_eq!(m.save_due(T0), None, "nothing new at start");
    pulses(&mut m, 22, T0, 5);
    assert_eq!(m.save_due(T0 + 59_000_000), None, "not yet");
    assert_eq!(m.save_due(T0 + 60_000_000), Some(BTreeMap::from([(22, 5)])));
    assert_eq!(m.save_due(T0 + 200_000_000), None, "unchanged");
    m.reconfigure(&inputs, &[22]);
    assert_eq!(
        m.save_due(T0 + 200_000_001),
        Some(BTreeMap::from([(22, 0)]))
    );
}

#[test]
fn the_watchdog_zeroes_the_rate_in_the_same_poll() {
    let inputs = [input(22, Some(MeterConfig::default()), 500)];
    let mut m = Meters::new(&inputs, &BTreeMap::new());
    m.set_levels(&[PinLevel { pin: 22, level: 0 }]);
    let mut out = Vec::new();
    m.poll(T0, &mut out);
    pulses(&mut m, 22, T0, 100); // 1 kHz for 0.1 s
    out.clear();
    m.poll(T0 + 400_000, &mut out);
    assert!(out.is_empty(), "{out:?}");
    m.poll(T0 + 10_000_000, &mut out);
    let [MeterEvent::Watchdog(w), MeterEvent::Reading(r)] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!((w.pin, w.silent_ms), (22, 9_900));
    assert_eq!(r.rate, 0.0);
    assert_eq!(r.pulses, 100);
    assert!(r.frequency_hz.is_some(), "the interval itself was measured");
}

#[test]
fn a_meter_removed_is_saved_without_it() {
    let inputs = [input(22, Some(MeterConfig::default()), 0)];
    let mut m = Meters::new(&inputs, &BTreeMap::from([(22, 3)]));
    m.save_due(T0);
    m.reconfigure(&[input(22, None, 0)], &[]);
    assert_eq!(m.save_due(T0 + 1), Some(BTreeMap::new()));
    assert!(m.is_empty());
}
