//! Home Assistant MQTT discovery payloads (pure): one `binary_sensor` per input, one `sensor` per
//! stats key, all under one device. Full key names only (no abbreviations), per
//! <https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery>,
//! <https://www.home-assistant.io/integrations/binary_sensor.mqtt/> and
//! <https://www.home-assistant.io/integrations/sensor.mqtt/>.
//!
//! * `<ha prefix>/binary_sensor/edgetap_<id>_gpio<pin>/config`: state on
//!   `<prefix>/<id>/gpio/<pin>` (`ON`/`OFF`), availability on `<prefix>/<id>/status`.
//! * `<ha prefix>/sensor/edgetap_<id>_<key>/config`: `{{ value_json.<key> }}` of
//!   `<prefix>/<id>/stats`, diagnostic, unavailable after [`EXPIRE_AFTER_INTERVALS`] stats
//!   intervals without one.
//!
//! The topic's object id is the entity's `unique_id` (HA's best practice) and matches
//! `[a-zA-Z0-9_-]` because device ids are validated to that. Unique ids start with `edgetap_`
//! so that no other integration's `<id>_gpio17` can collide with ours.
//!
//! `default_entity_id` (which replaced the deprecated `object_id`) must be a valid entity id,
//! hence [`entity_slug`]. It is made from the id *without* the `edgetap_` prefix, as it was
//! before unique ids had one: Home Assistant keeps history and long-term statistics by entity
//! id, so an upgraded device whose old configs are cleared first (the retained set clears
//! before it publishes) gets its entities back under the same entity ids, history included.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::device::{Description, InputInfo};
use super::status::{OFFLINE, ONLINE};
use super::topics::Topics;

/// Payload of `gpio/<pin>` for a high level (HA's default `payload_on`).
pub const PAYLOAD_ON: &str = "ON";
/// Payload of `gpio/<pin>` for a low level (HA's default `payload_off`).
pub const PAYLOAD_OFF: &str = "OFF";
/// Stats sensors become unavailable after this many stats intervals without a message.
pub const EXPIRE_AFTER_INTERVALS: u64 = 3;
/// The name discovery gives the software (`origin.name`).
const ORIGIN: &str = "edgetap";

/// One Home Assistant sensor on the stats topic (the list is part of the stats contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSensor {
    /// Key in the stats payload.
    pub key: &'static str,
    /// Entity name.
    pub name: &'static str,
    /// `unit_of_measurement`, if any.
    pub unit: Option<&'static str>,
    /// Sensor `device_class`, if any.
    pub device_class: Option<&'static str>,
    /// `state_class`.
    pub state_class: &'static str,
}

const fn sensor(
    key: &'static str,
    name: &'static str,
    unit: Option<&'static str>,
    device_class: Option<&'static str>,
    state_class: &'static str,
) -> StatsSensor {
    StatsSensor {
        key,
        name,
        unit,
        device_class,
        state_class,
    }
}

const MEASUREMENT: &str = "measurement";
const TOTAL_INCREASING: &str = "total_increasing";

/// The stats keys shown in Home Assistant, as the contract lists them.
pub const STATS_SENSORS: &[StatsSensor] = &[
    sensor(
        "samples_per_s",
        "Samples per second",
        Some("samples/s"),
        None,
        MEASUREMENT,
    ),
    sensor(
        "edges_per_s",
        "Edges per second",
        Some("edges/s"),
        None,
        MEASUREMENT,
    ),
    sensor("batches_sent", "Batches sent", None, None, TOTAL_INCREASING),
    sensor(
        "batches_spooled",
        "Batches spooled",
        None,
        None,
        TOTAL_INCREASING,
    ),
    sensor(
        "dropped_queue_full",
        "Batches dropped (queue full)",
        None,
        None,
        TOTAL_INCREASING,
    ),
    sensor(
        "dropped_spool_full",
        "Batches dropped (spool full)",
        None,
        None,
        TOTAL_INCREASING,
    ),
    sensor(
        "dropped_spool_error",
        "Batches dropped (spool error)",
        None,
        None,
        TOTAL_INCREASING,
    ),
    sensor(
        "rate_limited",
        "Edges rate-limited",
        None,
        None,
        TOTAL_INCREASING,
    ),
    sensor("overruns", "Sampler overruns", None, None, TOTAL_INCREASING),
    sensor("samples_lost", "Samples lost", None, None, TOTAL_INCREASING),
    sensor(
        "reconnects",
        "Broker reconnects",
        None,
        None,
        TOTAL_INCREASING,
    ),
    sensor(
        "spool_bytes",
        "Spool size",
        Some("B"),
        Some("data_size"),
        MEASUREMENT,
    ),
    sensor(
        "spool_pending",
        "Spooled batches pending",
        None,
        None,
        MEASUREMENT,
    ),
    sensor(
        "publish_latency_ms_p99",
        "Publish latency p99",
        Some("ms"),
        Some("duration"),
        MEASUREMENT,
    ),
    sensor("cpu_percent", "CPU", Some("%"), None, MEASUREMENT),
    sensor(
        "rss_bytes",
        "Memory (RSS)",
        Some("B"),
        Some("data_size"),
        MEASUREMENT,
    ),
];

/// `<ha prefix>/status`: where Home Assistant announces itself (`online` = republish).
pub fn ha_status_topic(ha_prefix: &str) -> String {
    format!("{ha_prefix}/status")
}

/// `<ha prefix>/binary_sensor/<id>_gpio<pin>/config`.
pub fn binary_sensor_topic(ha_prefix: &str, device: &str, pin: u8) -> String {
    format!("{ha_prefix}/binary_sensor/{}/config", input_id(device, pin))
}

/// `<ha prefix>/sensor/<id>_<key>/config`.
pub fn sensor_topic(ha_prefix: &str, device: &str, key: &str) -> String {
    format!("{ha_prefix}/sensor/{}/config", stats_id(device, key))
}

/// The `unique_id` (and topic object id) of input `pin`'s entity.
fn input_id(device: &str, pin: u8) -> String {
    format!("{ORIGIN}_{}", input_entity(device, pin))
}

/// The `unique_id` (and topic object id) of stats key `key`'s entity.
fn stats_id(device: &str, key: &str) -> String {
    format!("{ORIGIN}_{}", stats_entity(device, key))
}

/// What the entity id of input `pin` is made from (the unique id before it had a prefix).
fn input_entity(device: &str, pin: u8) -> String {
    format!("{device}_gpio{pin}")
}

/// What the entity id of stats key `key` is made from (the unique id before it had a prefix).
fn stats_entity(device: &str, key: &str) -> String {
    format!("{device}_{key}")
}

/// An entity id's object part made from `s`: lowercase `[a-z0-9_]`, no leading, trailing or
/// doubled `_` (what HA's `cv.entity_id` accepts); `edgetap` if nothing is left.
pub fn entity_slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        ORIGIN.into()
    } else {
        out
    }
}

/// Every discovery config of `d` (topic → payload), under `d`'s HA prefix and `topics`' state
/// topics; empty when `homeassistant.enabled` is false.
pub fn configs(d: &Description, topics: &Topics) -> BTreeMap<String, String> {
    let ha = &d.inventory.homeassistant;
    if !ha.enabled {
        return BTreeMap::new();
    }
    let device = &d.device.device_id;
    let inputs = d.inventory.inputs.iter().map(|i| {
        (
            binary_sensor_topic(&ha.prefix, device, i.pin),
            binary_sensor_config(d, topics, i),
        )
    });
    let sensors = STATS_SENSORS.iter().map(|s| {
        (
            sensor_topic(&ha.prefix, device, s.key),
            sensor_config(d, topics, s),
        )
    });
    inputs
        .chain(sensors)
        .map(|(topic, v)| (topic, v.to_string()))
        .collect()
}

/// The `binary_sensor` config of input `i`.
pub fn binary_sensor_config(d: &Description, topics: &Topics, i: &InputInfo) -> Value {
    let device = &d.device.device_id;
    let id = input_id(device, i.pin);
    let entity = entity_slug(&input_entity(device, i.pin));
    let name = if i.name.is_empty() {
        format!("GPIO {}", i.pin)
    } else {
        i.name.clone()
    };
    let mut v = json!({
        "name": name,
        "unique_id": id,
        "default_entity_id": format!("binary_sensor.{entity}"),
        "state_topic": topics.gpio(i.pin),
        "payload_on": PAYLOAD_ON,
        "payload_off": PAYLOAD_OFF,
        "qos": 1,
    });
    if let Some(class) = &i.device_class {
        v["device_class"] = json!(class);
    }
    common(&mut v, d, topics);
    v
}

/// The `sensor` config of stats key `s`.
pub fn sensor_config(d: &Description, topics: &Topics, s: &StatsSensor) -> Value {
    let device = &d.device.device_id;
    let id = stats_id(device, s.key);
    let entity = entity_slug(&stats_entity(device, s.key));
    let interval = d.inventory.stats_interval_s.max(1);
    let mut v = json!({
        "name": s.name,
        "unique_id": id,
        "default_entity_id": format!("sensor.{entity}"),
        "state_topic": topics.stats(),
        "value_template": format!("{{{{ value_json.{} }}}}", s.key),
        "state_class": s.state_class,
        "entity_category": "diagnostic",
        "expire_after": EXPIRE_AFTER_INTERVALS * interval,
        "qos": 1,
    });
    if let Some(unit) = s.unit {
        v["unit_of_measurement"] = json!(unit);
    }
    if let Some(class) = s.device_class {
        v["device_class"] = json!(class);
    }
    common(&mut v, d, topics);
    v
}

/// Availability, device and origin: the same in every config, so HA groups the entities
/// under one device that goes unavailable with the agent's last will.
fn common(v: &mut Value, d: &Description, topics: &Topics) {
    let dev = &d.device;
    v["availability_topic"] = json!(topics.status());
    v["payload_available"] = json!(ONLINE);
    v["payload_not_available"] = json!(OFFLINE);
    v["device"] = json!({
        "identifiers": [format!("{ORIGIN}_{}", dev.device_id)],
        "name": format!("{ORIGIN} {}", dev.device_id),
        "model": dev.model,
        "manufacturer": manufacturer(&dev.model),
        "sw_version": dev.sw_version,
    });
    v["origin"] = json!({"name": ORIGIN, "sw_version": dev.sw_version});
}

/// Who made the device HA shows: the board's maker when a real Pi is sampled, else edgetap
/// (an emulated Pi is edgetap's, not the Raspberry Pi company's).
fn manufacturer(model: &str) -> &'static str {
    if model.ends_with("(emulated)") {
        "edgetap (emulated)"
    } else if model.starts_with("Raspberry Pi") {
        "Raspberry Pi Ltd"
    } else {
        ORIGIN
    }
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
