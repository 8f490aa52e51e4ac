use super::*;
use serde_json::json;

fn env(pairs: &[(&str, &str)]) -> (Vec<Override>, Vec<String>) {
    from_env(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

#[test]
fn values_are_typed_by_the_key_they_set() {
    let probe = json!({"device_id": "x", "mqtt": {"port": 1883, "username": null, "password": null,
        "host": "h"}, "spool": {"enabled": true}, "groups": []});
    let t = |k: &str, raw: &str| typed(k, raw, lookup(&probe, k));
    assert_eq!(t("mqtt.password", "98765432"), json!("98765432"));
    assert_eq!(t("mqtt.username", "0123"), json!("0123"));
    assert_eq!(t("device_id", "12345"), json!("12345"));
    assert_eq!(t("mqtt.port", "1884"), json!(1884));
    assert_eq!(t("mqtt.port", "abc"), json!("abc"));
    assert_eq!(t("spool.enabled", "false"), json!(false));
    assert_eq!(t("groups", r#"["a","b"]"#), json!(["a", "b"]));
    assert_eq!(t("sampler.dma_channel", "5"), json!(5));
}

#[test]
fn environment_keys_and_strays_are_told_apart() {
    let (found, strays) = env(&[
        ("EDGETAP__MQTT__PORT", "1"),
        ("EDGETAP_MQTT__PORT", "2"),
        ("PATH", "/bin"),
        ("EDGETAP__DEVICE_ID", "d"),
    ]);
    let keys: Vec<_> = found.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, ["device_id", "mqtt.port"]);
    assert_eq!(found[1].origin, "environment variable EDGETAP__MQTT__PORT");
    assert_eq!(strays, ["EDGETAP_MQTT__PORT"]);
}

#[test]
fn set_arguments_name_their_origin_without_the_value() {
    let o = from_set("mqtt.password=secret").unwrap();
    assert_eq!(
        (o.key.as_str(), o.raw.as_str()),
        ("mqtt.password", "secret")
    );
    assert!(!o.origin.contains("secret"));
    assert_eq!(from_set("no-equals"), None);
}

#[test]
fn rust_type_names_become_ranges() {
    assert_eq!(
        plain_types("invalid value: integer `300`, expected u8"),
        "invalid value: integer `300`, expected a whole number from 0 to 255"
    );
    assert_eq!(
        plain_types("invalid type: string \"x\", expected u16"),
        "invalid type: string \"x\", expected a whole number from 0 to 65535"
    );
    assert_eq!(plain_types("expected a string"), "expected a string");
}
