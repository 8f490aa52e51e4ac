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

#[test]
fn the_block_is_a_time_by_default_and_the_old_key_still_counts_samples() {
    let at = |text: &str| load_str(text, Path::new(".")).unwrap().sampler;
    let default = at(MINIMAL);
    assert_eq!((default.block_ms, default.block_samples), (None, None));
    // 5 ms at the default 5 µs period.
    assert_eq!(default.samples_per_block(), 1000);
    let fast = at(&format!("{MINIMAL}[sampler]\nperiod_us = 1\n"));
    assert_eq!(fast.samples_per_block(), 5000);
    let timed = at(&format!(
        "{MINIMAL}[sampler]\nperiod_us = 3\nblock_ms = 2\n"
    ));
    assert_eq!(timed.samples_per_block(), 666, "whole periods within 2 ms");
    assert_eq!(timed.block_us(), 1998);
    let old = at(&format!(
        "{MINIMAL}[sampler]\nperiod_us = 1\nblock_samples = 700\n"
    ));
    assert_eq!(old.samples_per_block(), 700);
}

#[test]
fn block_ms_can_be_set_from_the_command_line_and_clashes_are_named() {
    let set = |toml: &str, sets: &[&str]| {
        load_with_env(
            ConfigSource::Text {
                toml,
                base_dir: Path::new("."),
            },
            &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            false,
        )
        .map(|l| l.config.sampler)
    };
    let s = set(MINIMAL, &["sampler.block_ms=2"]).unwrap();
    assert_eq!(s.block_ms, Some(2));
    assert_eq!(s.samples_per_block(), 400);
    let text = format!("{MINIMAL}[sampler]\nblock_samples = 100\n");
    let err = set(&text, &["sampler.block_ms=2"]).unwrap_err().to_string();
    assert!(
        err.contains("sampler.block_ms")
            && err.contains("sampler.block_samples")
            && err.contains("--set sampler.block_ms="),
        "{err}"
    );
}
