//! The JSON of a meter reading (`gpio/<pin>/meter`, retained) and of a watchdog event
//! (`gpio/<pin>/watchdog`): `{"v":1,"pin":22,"t_us":…,"pulses":123456,"total":123.456,
//! "unit":"kWh","rate":1.234,"rate_unit":"kW","frequency_hz":…,"period_us":{"min":…,"avg":…,
//! "max":…},"high_us":{…},"duty":0.5}` and `{"v":1,"pin":22,"t_us":…,"silent_ms":…}`.
//! Metrics the interval could not measure are `null`.

use serde_json::{json, Value};

use crate::meter::{MeterReading, Spread, WatchdogEvent};

/// Schema version of both payloads.
pub const METER_SCHEMA: u32 = 1;

fn spread(s: Option<Spread>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({"min": s.min, "avg": s.avg, "max": s.max}),
    )
}

/// The `gpio/<pin>/meter` payload of `r`.
pub fn meter_json(r: &MeterReading) -> String {
    json!({
        "v": METER_SCHEMA,
        "pin": r.pin,
        "t_us": r.t_us,
        "pulses": r.pulses,
        "total": r.total,
        "unit": r.unit,
        "rate": r.rate,
        "rate_unit": r.rate_unit,
        "frequency_hz": r.frequency_hz,
        "period_us": spread(r.period_us),
        "high_us": spread(r.high_us),
        "duty": r.duty,
    })
    .to_string()
}

/// The `gpio/<pin>/watchdog` payload of `e`.
pub fn watchdog_json(e: &WatchdogEvent) -> String {
    json!({"v": METER_SCHEMA, "pin": e.pin, "t_us": e.t_us, "silent_ms": e.silent_ms}).to_string()
}

#[cfg(test)]
#[path = "meter_tests.rs"]
mod tests;
