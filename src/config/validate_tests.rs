//! Tests of the validation rules: each refusal names its key.
use super::super::load_str;
use super::*;
use std::path::Path;

fn base() -> String {
    r#"
device_id = "pi-01"
[sampler.replay]
signal = "x.vcd"
[[inputs]]
pin = 17
"#
    .to_string()
}

fn fields(text: &str) -> Vec<String> {
    match load_str(text, Path::new(".")) {
        Err(ConfigError::Invalid(errs)) => errs.into_iter().map(|e| e.field).collect(),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn base_is_valid() {
    load_str(&base(), Path::new(".")).unwrap();
}

#[test]
fn pin_out_of_range_is_named_with_reason() {
    let err = load_str(&base().replace("17", "60"), Path::new(".")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config: inputs[0].pin: pin 60 is not a GPIO (0-53)"
    );
}

/// The base config on the emulated backend with `sampler` lines added.
fn emulated(sampler: &str) -> String {
    base().replace(
        "[[inputs]]",
        &format!(
            "[sampler]\nbackend = \"emulated\"\n{sampler}\n[sampler.emulated]\nsignal = \"x.vcd\"\n[[inputs]]"
        ),
    )
}

#[test]
fn each_rule_names_its_key() {
    let cases = [
        (base().replace("pi-01", "pi/01"), "device_id"),
        (
            format!("{}\n[[inputs]]\npin = 17\n", base()),
            "inputs[1].pin",
        ),
        (
            base().replace("[[inputs]]", "[sampler]\nperiod_us = 0\n[[inputs]]"),
            "sampler.period_us",
        ),
        (
            format!("{}[batch]\nmax_edges = 0\n", base()),
            "batch.max_edges",
        ),
        (
            format!("{}[batch]\nmax_age_ms = 0\n", base()),
            "batch.max_age_ms",
        ),
        (format!("{}[mqtt]\nqos = 3\n", base()), "mqtt.qos"),
        (format!("{}[mqtt]\nport = 0\n", base()), "mqtt.port"),
        (
            format!("{}[mqtt]\ntopic_prefix = \"a/#\"\n", base()),
            "mqtt.topic_prefix",
        ),
        (
            format!("{}[mqtt]\nkeep_alive_s = 1\n", base()),
            "mqtt.keep_alive_s",
        ),
        (
            format!(
                "{}[mqtt]\nembedded_broker = true\nhost = \"localhost\"\n",
                base()
            ),
            "mqtt.host",
        ),
        (
            base().replace("device_id", "groups = [\"lab\", \"a b\"]\ndevice_id"),
            "groups[1]",
        ),
        (
            base().replace("device_id", "state_dir = \"\"\ndevice_id"),
            "state_dir",
        ),
        (
            format!("{}[mqtt]\nrollback_after_s = 4\n", base()),
            "mqtt.rollback_after_s",
        ),
        (
            emulated("period_us = 1001\nblock_samples = 10"),
            "sampler.period_us",
        ),
        (
            emulated("period_us = 5\nblock_samples = 1000\nbuffer_ms = 9"),
            "sampler.buffer_ms",
        ),
        (emulated("buffer_ms = 10001"), "sampler.buffer_ms"),
        (emulated("dma_channel = 16"), "sampler.dma_channel"),
        (
            base().replace(
                "[[inputs]]",
                "[sampler]\nbackend = \"emulated\"\n[[inputs]]",
            ),
            "sampler.emulated.signal",
        ),
        (
            format!("{}[mqtt]\nrollback_after_s = 3601\n", base()),
            "mqtt.rollback_after_s",
        ),
        (
            base().replace("pin = 17", "pin = 17\nnoise_steady_us = 5"),
            "inputs[0].noise_active_us",
        ),
        (
            base().replace("pin = 17", "pin = 17\nglitch_us = 99999999999"),
            "inputs[0].glitch_us",
        ),
    ];
    for (text, field) in cases {
        assert_eq!(fields(&text), vec![field.to_string()], "{text}");
    }
}

#[test]
fn all_refusals_are_reported_together() {
    let text = format!("{}[batch]\nmax_edges = 0\n[mqtt]\nqos = 9\n", base());
    assert_eq!(fields(&text), vec!["batch.max_edges", "mqtt.qos"]);
}

#[test]
fn no_inputs_is_refused() {
    let text = "device_id = \"a\"\n[sampler.replay]\nsignal = \"x.vcd\"\n";
    assert_eq!(fields(text), vec!["inputs"]);
}

#[test]
fn redacted_hides_password() {
    let mut c = load_str(&base(), Path::new(".")).unwrap();
    c.mqtt.password = Some("hunter2".into());
    let shown = serde_json::to_string(&c.redacted()).unwrap();
    assert!(!shown.contains("hunter2"));
}

#[test]
fn rate_limit_device_class_stats_and_discovery_prefix_are_named() {
    let text = base()
        + r#"max_edges_per_s = 2000000
device_class = "toaster"
[stats]
interval_s = 0
[homeassistant]
prefix = "ha/"
"#;
    assert_eq!(
        fields(&text),
        vec![
            "inputs[0].max_edges_per_s",
            "inputs[0].device_class",
            "stats.interval_s",
            "homeassistant.prefix"
        ]
    );
}

#[test]
fn flood_and_discovery_defaults() {
    let c = load_str(&(base() + "device_class = \"door\"\n"), Path::new(".")).unwrap();
    assert_eq!(
        c.inputs[0].max_edges_per_s,
        crate::config::DEFAULT_MAX_EDGES_PER_S
    );
    assert_eq!(c.inputs[0].device_class.as_deref(), Some("door"));
    assert_eq!(c.stats.interval_s, 10);
    assert!(c.homeassistant.enabled);
    assert_eq!(c.homeassistant.prefix, "homeassistant");
}

#[test]
fn spool_limits_are_named() {
    let text = base()
        + r#"[spool]
max_bytes = 1000
replay_rate = 0
fsync_interval_ms = 1
policy = "drop_newest"
fsync = "batch"
"#;
    assert_eq!(
        fields(&text),
        vec![
            "spool.max_bytes",
            "spool.replay_rate",
            "spool.fsync_interval_ms"
        ]
    );
    let err = load_str(
        &(base() + "[spool]\npolicy = \"drop_random\"\n"),
        Path::new("."),
    );
    assert!(err.unwrap_err().to_string().contains("spool.policy"));
}

#[test]
fn topic_prefixes_are_bounded_and_stay_out_of_the_brokers_topics() {
    let long = "a".repeat(65_536);
    let text = format!(
        "{}[mqtt]\ntopic_prefix = \"{long}\"\n[homeassistant]\nprefix = \"$SYS\"\n",
        base()
    );
    assert_eq!(
        fields(&text),
        vec!["mqtt.topic_prefix", "homeassistant.prefix"]
    );
    let text = format!("{}[mqtt]\ntopic_prefix = \"a\\u0001b\"\n", base());
    assert_eq!(fields(&text), vec!["mqtt.topic_prefix"]);
}
