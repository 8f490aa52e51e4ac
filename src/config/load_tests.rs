//! Unit tests of `load`.

use super::*;

const MINIMAL: &str = r#"
device_id = "pi-01"
[sampler.replay]
signal = "signals/demo.vcd"
[[inputs]]
pin = 17
"#;

#[test]
fn minimal_config_gets_defaults_and_resolved_paths() {
    let c = load_str(MINIMAL, Path::new("/etc/edgetap")).unwrap();
    assert_eq!(c.device_id, "pi-01");
    assert_eq!(c.sampler.period_us, 5);
    assert_eq!(c.batch.max_edges, 512);
    assert_eq!(c.mqtt.port(), 1883);
    assert_eq!(
        c.sampler.replay.signal,
        Path::new("/etc/edgetap/signals/demo.vcd")
    );
    assert_eq!(c.state_dir, Path::new("/var/lib/edgetap"));
    assert!(c.groups.is_empty());
    assert_eq!(c.mqtt.rollback_after_s, 60);
    let rel = load_str(
        &format!("state_dir = \"state\"\n{MINIMAL}"),
        Path::new("/etc/e"),
    )
    .unwrap();
    assert_eq!(rel.state_dir, Path::new("/etc/e/state"));
}

#[test]
fn unknown_key_is_named() {
    let text = format!("{MINIMAL}\n[batch]\nmax_edgez = 3\n");
    let err = load_str(&text, Path::new(".")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("batch") && msg.contains("max_edgez"), "{msg}");
}

#[test]
fn wrong_type_names_the_indexed_field() {
    let text = MINIMAL.replace("pin = 17", "pin = \"seventeen\"");
    let err = load_str(&text, Path::new(".")).unwrap_err();
    assert!(err.to_string().contains("inputs[0].pin"), "{err}");
}

#[test]
fn toml_syntax_error_is_a_load_error() {
    let err = load_str("device_id = ", Path::new(".")).unwrap_err();
    assert!(matches!(err, ConfigError::Load(_)), "{err}");
}

#[test]
fn overrides_are_typed_by_key_and_need_a_key() {
    let base = Path::new(".");
    let sets = [
        "mqtt.port=1884".to_owned(),
        "mqtt.host=broker.local".to_owned(),
        "batch.max_edges=7".to_owned(),
        "mqtt.password=0123".to_owned(),
    ];
    let c = load_with_env(
        ConfigSource::Text {
            toml: MINIMAL,
            base_dir: base,
        },
        &sets,
        false,
    )
    .unwrap()
    .config;
    assert_eq!(c.mqtt.port, Some(1884));
    assert_eq!(c.mqtt.host, "broker.local");
    assert_eq!(c.batch.max_edges, 7);
    assert_eq!(c.mqtt.password.as_deref(), Some("0123"));
    for bad in ["novalue", "a..b=1"] {
        let r = load_with_env(
            ConfigSource::Text {
                toml: MINIMAL,
                base_dir: base,
            },
            &[bad.to_owned()],
            false,
        );
        assert!(r.is_err(), "{bad}");
    }
    let err = load_with_env(
        ConfigSource::Text {
            toml: MINIMAL,
            base_dir: base,
        },
        &["mqtt.port=x".to_owned()],
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("mqtt.port") && err.contains("--set mqtt.port="),
        "{err}"
    );
}

#[test]
fn missing_file_is_reported_with_its_path() {
    let err = load(ConfigSource::File(Path::new("/nonexistent/x.toml")), &[]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/x.toml"));
}
