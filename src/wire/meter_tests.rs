use super::*;

#[test]
fn payloads_carry_every_key_and_null_for_what_was_not_measured() {
    let r = MeterReading {
        pin: 22,
        t_us: 5,
        pulses: 123_456,
        total: 123.456,
        unit: "kWh".into(),
        rate: 1.234,
        rate_unit: "kW".into(),
        frequency_hz: None,
        period_us: None,
        high_us: Some(Spread {
            min: 1,
            avg: 2.5,
            max: 4,
        }),
        duty: None,
    };
    let v: Value = serde_json::from_str(&meter_json(&r)).unwrap();
    assert_eq!(
        v,
        json!({"v":1,"pin":22,"t_us":5,"pulses":123456,"total":123.456,"unit":"kWh",
            "rate":1.234,"rate_unit":"kW","frequency_hz":null,"period_us":null,
            "high_us":{"min":1,"avg":2.5,"max":4},"duty":null})
    );
    let w = WatchdogEvent {
        pin: 22,
        t_us: 9,
        silent_ms: 1500,
    };
    assert_eq!(
        watchdog_json(&w),
        r#"{"pin":22,"silent_ms":1500,"t_us":9,"v":1}"#
    );
}
