use super::*;
use crate::meter::{MeterReading, WatchdogEvent};

fn reading(pin: u8, pulses: u64) -> MeterEvent {
    MeterEvent::Reading(MeterReading {
        pin,
        t_us: 1,
        pulses,
        total: pulses as f64,
        unit: "pulses".into(),
        rate: 0.0,
        rate_unit: "pulses/min".into(),
        frequency_hz: None,
        period_us: None,
        high_us: None,
        duty: None,
    })
}

#[test]
fn only_the_latest_reading_waits_and_a_reconnect_publishes_it_again() {
    let mut m = Metering::default();
    m.accept(reading(22, 1));
    m.accept(reading(22, 2));
    let (pin, payload) = m.reading().unwrap();
    assert_eq!(pin, 22);
    assert!(payload.contains(r#""pulses":2"#), "{payload}");
    m.reading_sent(22);
    assert!(!m.pending());
    m.connected();
    assert_eq!(m.reading().map(|(p, _)| p), Some(22));
    m.forget(22);
    assert!(!m.pending());
}

#[test]
fn watchdog_events_go_out_in_order() {
    let mut m = Metering::default();
    for t_us in [1, 2] {
        m.accept(MeterEvent::Watchdog(WatchdogEvent {
            pin: 5,
            t_us,
            silent_ms: 10,
        }));
    }
    assert!(m.watchdog().unwrap().1.contains(r#""t_us":1"#));
    m.watchdog_sent();
    assert!(m.watchdog().unwrap().1.contains(r#""t_us":2"#));
    m.watchdog_sent();
    assert!(!m.pending());
}
