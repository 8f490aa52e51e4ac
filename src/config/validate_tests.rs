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
            format!("{}[mqtt]\nprotocol = \"4\"\n", base()),
            "mqtt.protocol",
        ),
        (
            format!("{}[mqtt]\nsession_expiry_s = 0\n", base()),
            "mqtt.session_expiry_s",
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
            base().replace("device_id", "run_as = \"edge tap\"\ndevice_id"),
            "run_as",
        ),
        (
            base().replace("device_id", "run_as = \"-edgetap\"\ndevice_id"),
            "run_as",
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
        (emulated("block_ms = 0"), "sampler.block_ms"),
        (
            emulated("block_ms = 1001\nbuffer_ms = 5000"),
            "sampler.block_ms",
        ),
        (emulated("block_samples = 0"), "sampler.block_samples"),
        (
            base().replace(
                "[sampler.replay]",
                "[sampler]\nblock_samples = 1000001\n[sampler.replay]",
            ),
            "sampler.block_samples",
        ),
        (
            emulated("block_ms = 5\nblock_samples = 1000"),
            "sampler.block_ms",
        ),
        // 60 ms blocks: a 100 ms ring does not hold two.
        (emulated("block_ms = 60"), "sampler.buffer_ms"),
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
fn a_loopback_wire_needs_two_different_gpios() {
    let wired = |pairs: &str| {
        emulated("").replace(
            "signal = \"x.vcd\"\n[[inputs]]",
            &format!("signal = \"x.vcd\"\nloopback = {pairs}\n[[inputs]]"),
        )
    };
    load_str(&wired("[[18, 17]]"), Path::new(".")).expect("valid");
    assert_eq!(
        fields(&wired("[[18, 18], [60, 17]]")),
        vec!["sampler.emulated.loopback", "sampler.emulated.loopback"]
    );
}

#[test]
fn run_as_takes_a_user_name_and_is_local_only() {
    let text = base().replace("device_id", "run_as = \"edgetap\"\ndevice_id");
    let c = load_str(&text, Path::new(".")).unwrap();
    assert_eq!(c.run_as.as_deref(), Some("edgetap"));
    assert!(crate::config::LOCAL_ONLY.contains(&"run_as"));
}

fn meter(table: &str) -> String {
    format!("{}[inputs.meter]\n{table}\n", base())
}

#[test]
fn a_meter_input_publishes_neither_edges_nor_level_unless_asked() {
    let c = load_str(
        &meter("pulses_per_unit = 1000\nunit = \"kWh\""),
        Path::new("."),
    )
    .unwrap();
    let m = c.inputs[0].meter.as_ref().unwrap();
    assert_eq!(
        (m.interval_s, m.persist_s, m.rate_unit().as_str()),
        (10, 60, "kW")
    );
    assert!(!c.inputs[0].publishes_edges() && !c.inputs[0].publishes_level());
    let plain = load_str(&base(), Path::new(".")).unwrap();
    assert!(plain.inputs[0].publishes_edges() && plain.inputs[0].publishes_level());
    let asked = format!("{}\npublish_level = true\n", base().trim_end());
    let text = format!("{asked}\n[inputs.meter]\nunit = \"L\"\n");
    let c = load_str(&text, Path::new(".")).unwrap();
    assert!(!c.inputs[0].publishes_edges() && c.inputs[0].publishes_level());
}

#[test]
fn meter_settings_are_checked_by_key() {
    for (table, key) in [
        ("pulses_per_unit = 0", "inputs[0].meter.pulses_per_unit"),
        ("pulses_per_unit = -2.5", "inputs[0].meter.pulses_per_unit"),
        ("unit = \"\"", "inputs[0].meter.unit"),
        (
            "unit = \"L\"\nrate_unit = \"kW\"",
            "inputs[0].meter.rate_unit",
        ),
        (
            "unit = \"kWh\"\nrate_unit = \"L/min\"",
            "inputs[0].meter.rate_unit",
        ),
        ("interval_s = 0", "inputs[0].meter.interval_s"),
        ("persist_s = 100000", "inputs[0].meter.persist_s"),
        (
            "unit = \"kWh\"\ndevice_class = \"gas\"",
            "inputs[0].meter.device_class",
        ),
        (
            "unit = \"m³\"\ndevice_class = \"power\"",
            "inputs[0].meter.device_class",
        ),
    ] {
        assert_eq!(fields(&meter(table)), vec![key.to_string()], "{table}");
    }
    load_str(
        &meter("unit = \"m³\"\ndevice_class = \"gas\""),
        Path::new("."),
    )
    .unwrap();
    load_str(
        &meter("unit = \"mm\"\npulses_per_unit = 3.5"),
        Path::new("."),
    )
    .unwrap();
}

#[test]
fn reset_is_refused_in_the_file_and_the_watchdog_is_bounded() {
    assert_eq!(
        fields(&meter("reset = true")),
        vec!["inputs[0].meter.reset".to_string()]
    );
    let text = format!("{}\nwatchdog_ms = 90000000\n", base().trim_end());
    assert_eq!(
        fields(&format!("{text}\n")),
        vec!["inputs[0].watchdog_ms".to_string()]
    );
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

#[test]
fn block_ms_and_block_samples_together_are_refused_naming_both() {
    let err = load_str(
        &emulated("block_ms = 5\nblock_samples = 1000"),
        Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sampler.block_ms") && err.contains("sampler.block_samples = 1000"),
        "{err}"
    );
}
