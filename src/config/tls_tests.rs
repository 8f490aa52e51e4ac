//! Tests of the `[mqtt.tls]` rules and of the host and port rules that go with TLS.

use crate::config::{load_str, ConfigError, MqttConfig};
use std::path::Path;

/// The smallest valid config.
const BASE: &str =
    "device_id = \"pi-01\"\n[sampler.replay]\nsignal = \"x.vcd\"\n[[inputs]]\npin = 17\n";

/// The refused keys of a config with `mqtt` as its `[mqtt]` table, and their reasons.
fn refusals(mqtt: &str) -> Vec<(String, String)> {
    let text = format!("{BASE}[mqtt]\n{mqtt}\n");
    match load_str(&text, Path::new("/etc/edgetap")) {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid(f)) => f.into_iter().map(|f| (f.field, f.reason)).collect(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_port_follows_the_transport_unless_set() {
    let mut m = MqttConfig::default();
    assert_eq!(m.port(), 1883);
    m.tls.enabled = true;
    assert_eq!(m.port(), 8883);
    m.port = Some(8884);
    assert_eq!(m.port(), 8884);
    m.host = "::1".into();
    assert_eq!(m.broker(), "[::1]:8884");
}

#[test]
fn a_url_is_refused_with_the_keys_it_means() {
    let r = refusals("host = \"mqtts://broker.example:8883\"");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "mqtt.host");
    let reason = &r[0].1;
    assert!(reason.contains("is a URL"), "{reason}");
    assert!(
        reason
            .contains("mqtt.host = \"broker.example\", mqtt.port = 8883, mqtt.tls.enabled = true"),
        "{reason}"
    );
    let r = refusals("host = \"tcp://10.0.0.5\"");
    assert!(r[0].1.contains("set mqtt.host = \"10.0.0.5\""), "{r:?}");
    assert!(!r[0].1.contains("tls"), "plain tcp: {r:?}");
    let r = refusals("host = \"broker.example/mqtt\"");
    assert!(r[0].1.contains("has a path"), "{r:?}");
    let r = refusals("host = \"broker.example:1884\"");
    assert!(r[0].1.contains("mqtt.port = 1884"), "{r:?}");
}

#[test]
fn host_names_and_addresses_pass() {
    for host in ["broker.example", "10.0.0.5", "::1", "fe80::1", "localhost"] {
        assert!(refusals(&format!("host = \"{host}\"")).is_empty(), "{host}");
    }
}

#[test]
fn tls_files_need_tls_on_and_come_in_pairs() {
    let r = refusals("[mqtt.tls]\nca_file = \"ca.pem\"");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "mqtt.tls.ca_file");
    assert!(r[0].1.contains("plain TCP"), "{r:?}");
    let r = refusals("[mqtt.tls]\nenabled = true\ncert_file = \"c.pem\"");
    assert_eq!(r[0].0, "mqtt.tls.key_file", "{r:?}");
    let r = refusals("[mqtt.tls]\nenabled = true\nserver_name = \"not a name\"");
    assert_eq!(r[0].0, "mqtt.tls.server_name", "{r:?}");
    let r = refusals("embedded_broker = true\n[mqtt.tls]\nenabled = true");
    assert_eq!(r[0].0, "mqtt.tls.enabled", "{r:?}");
}

#[test]
fn tls_paths_are_relative_to_the_config_file() {
    let text = &format!(
        "{BASE}[mqtt.tls]\nenabled = true\nca_file = \"ca.pem\"\n\
                cert_file = \"/abs/c.pem\"\nkey_file = \"k.pem\"\n"
    );
    let c = load_str(text, Path::new("/etc/edgetap")).unwrap();
    let t = &c.mqtt.tls;
    assert_eq!(t.ca_file.as_deref(), Some(Path::new("/etc/edgetap/ca.pem")));
    assert_eq!(t.cert_file.as_deref(), Some(Path::new("/abs/c.pem")));
    assert_eq!(t.key_file.as_deref(), Some(Path::new("/etc/edgetap/k.pem")));
    assert_eq!(c.mqtt.port(), 8883);
}

#[test]
fn a_credential_name_is_a_file_name() {
    for bad in ["", "..", "a/b"] {
        let r = refusals(&format!("password_credential = \"{bad}\""));
        assert_eq!(r[0].0, "mqtt.password_credential", "{bad}: {r:?}");
    }
}
