//! Discovery payloads against Home Assistant's documented MQTT discovery schema: the topic
//! format, required keys, allowed (full, unabbreviated) keys, id patterns, device and origin
//! blocks, sensor classes and units, and the contract's list of stats keys.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::config::BINARY_SENSOR_CLASSES;
use crate::wire::device::tests::description;

/// The stats sensors of the stats contract: key, name, unit, device_class, state_class.
const CONTRACT: &[(&str, &str, &str, &str, &str)] = &[
    (
        "samples_per_s",
        "Samples per second",
        "samples/s",
        "",
        "measurement",
    ),
    (
        "edges_per_s",
        "Edges per second",
        "edges/s",
        "",
        "measurement",
    ),
    ("batches_sent", "Batches sent", "", "", "total_increasing"),
    (
        "batches_spooled",
        "Batches spooled",
        "",
        "",
        "total_increasing",
    ),
    (
        "dropped_queue_full",
        "Batches dropped (queue full)",
        "",
        "",
        "total_increasing",
    ),
    (
        "dropped_spool_full",
        "Batches dropped (spool full)",
        "",
        "",
        "total_increasing",
    ),
    (
        "dropped_spool_error",
        "Batches dropped (spool error)",
        "",
        "",
        "total_increasing",
    ),
    (
        "rate_limited",
        "Edges rate-limited",
        "",
        "",
        "total_increasing",
    ),
    ("overruns", "Sampler overruns", "", "", "total_increasing"),
    ("samples_lost", "Samples lost", "", "", "total_increasing"),
    (
        "reconnects",
        "Broker reconnects",
        "",
        "",
        "total_increasing",
    ),
    ("spool_bytes", "Spool size", "B", "data_size", "measurement"),
    (
        "spool_pending",
        "Spooled batches pending",
        "",
        "",
        "measurement",
    ),
    (
        "publish_latency_ms_p99",
        "Publish latency p99",
        "ms",
        "duration",
        "measurement",
    ),
    ("cpu_percent", "CPU", "%", "", "measurement"),
    ("rss_bytes", "Memory (RSS)", "B", "data_size", "measurement"),
];

/// Options HA documents for an MQTT entity of either platform (full names).
const ENTITY_KEYS: &[&str] = &[
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "default_entity_id",
    "device",
    "device_class",
    "enabled_by_default",
    "encoding",
    "entity_category",
    "entity_picture",
    "expire_after",
    "force_update",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "name",
    "origin",
    "payload_available",
    "payload_not_available",
    "platform",
    "qos",
    "state_topic",
    "unique_id",
    "value_template",
];
/// Options only `binary_sensor` has.
const BINARY_SENSOR_KEYS: &[&str] = &["off_delay", "payload_off", "payload_on"];
/// Options only `sensor` has.
const SENSOR_KEYS: &[&str] = &[
    "last_reset_value_template",
    "options",
    "state_class",
    "suggested_display_precision",
    "unit_of_measurement",
];
/// Keys of the `device` block.
const DEVICE_KEYS: &[&str] = &[
    "configuration_url",
    "connections",
    "hw_version",
    "identifiers",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "serial_number",
    "suggested_area",
    "sw_version",
    "via_device",
];
/// Keys of the `origin` block.
const ORIGIN_KEYS: &[&str] = &["name", "support_url", "sw_version"];

/// HA's `[a-zA-Z0-9_-]` for node and object ids in discovery topics.
fn is_discovery_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One part of an entity id as HA's `valid_entity_id` accepts it.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
}

/// `domain.object_id`, both slugs.
fn is_entity_id(s: &str, domain: &str) -> bool {
    s.split_once('.')
        .is_some_and(|(d, o)| d == domain && is_slug(d) && is_slug(o))
}

/// A topic one can publish to: no wildcard, no NUL, no empty level.
fn is_publish_topic(t: &str) -> bool {
    !t.is_empty() && !t.contains(['+', '#', '\0']) && t.split('/').all(|l| !l.is_empty())
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Checks one config against the schema; returns (component, object id) of its topic.
fn check(topic: &str, payload: &str, ha_prefix: &str, topics: &Topics) -> (String, String) {
    let v: Value = serde_json::from_str(payload).expect("payload is JSON");
    assert_eq!(v.to_string(), payload, "round trip");
    // <discovery_prefix>/<component>/<object_id>/config, no node id (best practice with a
    // unique_id: object id = unique_id).
    let rest = topic
        .strip_prefix(&format!("{ha_prefix}/"))
        .unwrap_or_else(|| panic!("{topic}: not under {ha_prefix}"));
    let parts: Vec<&str> = rest.split('/').collect();
    assert_eq!(parts.len(), 3, "{topic}");
    let (component, object_id) = (parts[0], parts[1]);
    assert_eq!(parts[2], "config", "{topic}");
    assert!(is_discovery_id(object_id), "{topic}: object id");
    assert_eq!(v["unique_id"], object_id, "{topic}: object id = unique_id");

    let own: &[&str] = match component {
        "binary_sensor" => BINARY_SENSOR_KEYS,
        "sensor" => SENSOR_KEYS,
        other => panic!("{topic}: unexpected component {other}"),
    };
    for k in keys(&v) {
        assert!(
            ENTITY_KEYS.contains(&k) || own.contains(&k),
            "{topic}: `{k}` is not a documented {component} option (abbreviation?)"
        );
    }
    for required in [
        "name",
        "unique_id",
        "default_entity_id",
        "state_topic",
        "availability_topic",
        "device",
        "origin",
    ] {
        assert!(v.get(required).is_some(), "{topic}: `{required}` missing");
    }
    let default_id = v["default_entity_id"].as_str().expect("string");
    assert!(is_entity_id(default_id, component), "{topic}: {default_id}");
    let state = v["state_topic"].as_str().expect("string");
    assert!(is_publish_topic(state), "{topic}: state_topic {state}");
    assert_eq!(v["availability_topic"], topics.status().as_str());
    assert_eq!(v["payload_available"], "online");
    assert_eq!(v["payload_not_available"], "offline");
    assert!(matches!(v["qos"].as_u64(), Some(0..=2)));

    let dev = &v["device"];
    for k in keys(dev) {
        assert!(DEVICE_KEYS.contains(&k), "{topic}: device key `{k}`");
    }
    let ids = dev["identifiers"].as_array().expect("identifiers list");
    assert!(
        !ids.is_empty() && ids.iter().all(Value::is_string),
        "{topic}"
    );
    for k in ["name", "model", "manufacturer", "sw_version"] {
        assert!(
            dev[k].as_str().is_some_and(|s| !s.is_empty()),
            "{topic}: device.{k}"
        );
    }
    for k in keys(&v["origin"]) {
        assert!(ORIGIN_KEYS.contains(&k), "{topic}: origin key `{k}`");
    }
    assert!(
        v["origin"]["name"].is_string(),
        "{topic}: origin.name is required"
    );
    (component.to_string(), object_id.to_string())
}

#[test]
fn every_config_follows_the_documented_schema() {
    let d = description();
    let topics = Topics::new("edgetap", "pi-01");
    let all = configs(&d, &topics);
    assert_eq!(all.len(), 2 + CONTRACT.len());
    let mut devices = BTreeSet::new();
    for (topic, payload) in &all {
        let (component, _) = check(topic, payload, "homeassistant", &topics);
        let v: Value = serde_json::from_str(payload).unwrap();
        devices.insert(v["device"].to_string());
        if component == "binary_sensor" {
            assert_eq!(
                (v["payload_on"].as_str(), v["payload_off"].as_str()),
                (Some("ON"), Some("OFF"))
            );
            if let Some(class) = v.get("device_class") {
                assert!(BINARY_SENSOR_CLASSES.contains(&class.as_str().unwrap()));
            }
        }
    }
    assert_eq!(devices.len(), 1, "one device block shared by every entity");
}

#[test]
fn inputs_are_binary_sensors_on_their_gpio_topics() {
    let d = description();
    let topics = Topics::new("edgetap", "pi-01");
    let all = configs(&d, &topics);
    let door: Value =
        serde_json::from_str(&all["homeassistant/binary_sensor/edgetap_pi-01_gpio17/config"])
            .unwrap();
    assert_eq!(door["name"], "door");
    assert_eq!(door["device_class"], "door");
    assert_eq!(door["state_topic"], "edgetap/pi-01/gpio/17");
    assert_eq!(door["default_entity_id"], "binary_sensor.pi_01_gpio17");
    assert_eq!(door["device"]["identifiers"][0], "edgetap_pi-01");
    assert_eq!(door["device"]["model"], "Raspberry Pi 4B");
    assert_eq!(door["device"]["manufacturer"], "Raspberry Pi Ltd");
    assert_eq!(door["device"]["sw_version"], env!("CARGO_PKG_VERSION"));
    let plain: Value =
        serde_json::from_str(&all["homeassistant/binary_sensor/edgetap_pi-01_gpio18/config"])
            .unwrap();
    assert_eq!(
        plain["name"], "GPIO 18",
        "an unnamed input is named after its pin"
    );
    assert!(plain.get("device_class").is_none(), "no class: none sent");
}

#[test]
fn every_contract_stats_key_is_a_sensor_with_its_unit_and_classes() {
    let mut d = description();
    d.inventory.stats_interval_s = 20;
    let topics = Topics::new("fleet", "pi-01");
    let all = configs(&d, &topics);
    assert_eq!(STATS_SENSORS.len(), CONTRACT.len());
    for &(key, name, unit, class, state_class) in CONTRACT {
        let topic = format!("homeassistant/sensor/edgetap_pi-01_{key}/config");
        let v: Value = serde_json::from_str(
            all.get(&topic)
                .unwrap_or_else(|| panic!("{key}: no sensor")),
        )
        .unwrap();
        assert_eq!(v["name"], name, "{key}");
        assert_eq!(v["state_topic"], "fleet/pi-01/stats", "{key}");
        assert_eq!(v["value_template"], format!("{{{{ value_json.{key} }}}}"));
        assert_eq!(v["state_class"], state_class, "{key}");
        assert_eq!(v["entity_category"], "diagnostic", "{key}");
        assert_eq!(v["expire_after"], 60, "{key}: three intervals");
        let opt = |s: &str| (!s.is_empty()).then(|| Value::from(s));
        assert_eq!(v.get("unit_of_measurement").cloned(), opt(unit), "{key}");
        assert_eq!(v.get("device_class").cloned(), opt(class), "{key}");
        // HA refuses a unit its device class does not know.
        match class {
            "data_size" => assert_eq!(unit, "B"),
            "duration" => assert_eq!(unit, "ms"),
            "" => {}
            other => panic!("{key}: unexpected class {other}"),
        }
    }
}

#[test]
fn ids_stay_valid_for_any_valid_device_id() {
    for device in ["pi-01", "A", "x_y", "Garage-Door_2", "-", "__", "9"] {
        let mut d = description();
        d.device.device_id = device.into();
        let topics = Topics::new("edgetap", device);
        for (topic, payload) in configs(&d, &topics) {
            check(&topic, &payload, "homeassistant", &topics);
        }
    }
}

#[test]
fn a_multi_level_prefix_and_a_disabled_integration() {
    let mut d = description();
    d.inventory.homeassistant.prefix = "site/ha".into();
    let topics = Topics::new("edgetap", "pi-01");
    let all = configs(&d, &topics);
    assert!(all.contains_key("site/ha/binary_sensor/edgetap_pi-01_gpio17/config"));
    for (topic, payload) in &all {
        check(topic, payload, "site/ha", &topics);
    }
    assert_eq!(ha_status_topic("site/ha"), "site/ha/status");
    d.inventory.homeassistant.enabled = false;
    assert!(configs(&d, &topics).is_empty());
}

#[test]
fn an_emulated_pi_is_not_made_by_raspberry_pi_ltd() {
    let mut d = description();
    d.device.model = "Raspberry Pi 4B (emulated)".into();
    let v = binary_sensor_config(&d, &Topics::new("e", "pi-01"), &d.inventory.inputs[0]);
    assert_eq!(v["device"]["manufacturer"], "edgetap (emulated)");
    assert_eq!(v["device"]["model"], "Raspberry Pi 4B (emulated)");
}

#[test]
fn other_boards_are_made_by_edgetap() {
    let mut d = description();
    d.device.model = "replay".into();
    let v = binary_sensor_config(&d, &Topics::new("e", "pi-01"), &d.inventory.inputs[0]);
    assert_eq!(v["device"]["manufacturer"], "edgetap");
    assert_eq!(v["device"]["model"], "replay");
}

#[test]
fn slugs_are_entity_ids() {
    assert_eq!(entity_slug("Pi-01_gpio17"), "pi_01_gpio17");
    assert_eq!(entity_slug("--a--b--"), "a_b");
    assert_eq!(entity_slug("__"), "edgetap");
    for s in ["a", "A-B", "_x_", "x__y", "-_-", "Z9"] {
        assert!(is_slug(&entity_slug(s)), "{s}");
    }
}

#[test]
fn every_stats_sensor_reads_a_key_the_stats_payload_has() {
    for sensor in STATS_SENSORS {
        assert!(
            crate::wire::health::STATS_KEYS.contains(&sensor.key),
            "sensor {} reads a key the stats message does not carry",
            sensor.key
        );
    }
}
