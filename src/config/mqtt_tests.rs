//! Tests of the `[mqtt]` section: what a change to each key means.

use super::*;

/// The classes a change can fall in, for one key.
#[derive(Debug, PartialEq, Eq)]
struct Class {
    reconnect: bool,
    tuning: bool,
    topics: bool,
}

const RECONNECT: Class = Class {
    reconnect: true,
    tuning: false,
    topics: false,
};
const TUNING: Class = Class {
    reconnect: false,
    tuning: true,
    topics: false,
};

/// A key, how to change it, and the class expected.
type Row = (&'static str, fn(&mut MqttConfig), Class);

fn class_of(change: fn(&mut MqttConfig)) -> (Class, ChangeSet) {
    let old = MqttConfig::default();
    let mut new = old.clone();
    change(&mut new);
    assert_ne!(old, new, "the change must change something");
    let mut c = ChangeSet::default();
    old.classify(&new, &mut c);
    let class = Class {
        reconnect: c.mqtt_reconnect,
        tuning: c.mqtt_tuning,
        topics: c.topics_changed,
    };
    (class, c)
}

#[test]
fn each_key_has_its_class() {
    // Named without `..`: a new key fails to compile here until it gets a row below.
    let MqttConfig {
        host: _,
        port: _,
        topic_prefix: _,
        qos: _,
        embedded_broker: _,
        keep_alive_s: _,
        username: _,
        password: _,
        password_file: _,
        password_credential: _,
        reconnect_min_ms: _,
        reconnect_max_ms: _,
        rollback_after_s: _,
        tls: _,
        protocol: _,
        session_expiry_s: _,
    } = MqttConfig::default();
    let rows: [Row; 20] = [
        ("protocol", |m| m.protocol = "5".into(), RECONNECT),
        ("session_expiry_s", |m| m.session_expiry_s = 3600, RECONNECT),
        ("host", |m| m.host = "broker.lan".into(), RECONNECT),
        ("port", |m| m.port = Some(1884), RECONNECT),
        (
            "topic_prefix",
            |m| m.topic_prefix = "fleet".into(),
            Class {
                reconnect: true,
                tuning: false,
                topics: true,
            },
        ),
        ("qos", |m| m.qos = 0, TUNING),
        ("embedded_broker", |m| m.embedded_broker = true, RECONNECT),
        ("keep_alive_s", |m| m.keep_alive_s = 60, RECONNECT),
        ("username", |m| m.username = Some("u".into()), RECONNECT),
        ("password", |m| m.password = Some("p".into()), RECONNECT),
        (
            "password_file",
            |m| m.password_file = Some("pw".into()),
            RECONNECT,
        ),
        (
            "password_credential",
            |m| m.password_credential = Some("pw".into()),
            RECONNECT,
        ),
        ("tls.enabled", |m| m.tls.enabled = true, RECONNECT),
        (
            "tls.ca_file",
            |m| m.tls.ca_file = Some("ca".into()),
            RECONNECT,
        ),
        (
            "tls.cert_file",
            |m| m.tls.cert_file = Some("c".into()),
            RECONNECT,
        ),
        (
            "tls.key_file",
            |m| m.tls.key_file = Some("k".into()),
            RECONNECT,
        ),
        (
            "tls.server_name",
            |m| m.tls.server_name = Some("b".into()),
            RECONNECT,
        ),
        ("reconnect_min_ms", |m| m.reconnect_min_ms = 500, TUNING),
        ("reconnect_max_ms", |m| m.reconnect_max_ms = 60_000, TUNING),
        ("rollback_after_s", |m| m.rollback_after_s = 10, TUNING),
    ];
    for (key, change, expected) in rows {
        let (class, c) = class_of(change);
        assert_eq!(class, expected, "mqtt.{key}");
        // Nothing outside the MQTT link moves.
        let rest = ChangeSet {
            mqtt_reconnect: false,
            mqtt_tuning: false,
            topics_changed: false,
            ..c
        };
        assert!(rest.is_empty(), "mqtt.{key}: {rest:?}");
    }
}
