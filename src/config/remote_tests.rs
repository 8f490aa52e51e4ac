use super::*;
use crate::config::{is_stale_retained, load_str, MAX_PAYLOAD};
use std::path::Path;

pub(super) const FILE: &str = r#"
device_id = "pi-01"
groups = ["lab"]
[sampler.replay]
signal = "signals/demo.vcd"
[[inputs]]
pin = 17
name = "door"
[[inputs]]
pin = 18
[mqtt]
password = "hunter2"
"#;

pub(super) fn file_config() -> Config {
    load_str(FILE, Path::new("/etc/edgetap")).unwrap()
}

fn remote(version: u64) -> RemoteConfig {
    let mut r = RemoteConfig::new(file_config());
    r.version = version;
    r
}

/// Rejects `payload` and checks that the config in force did not move.
fn reject(r: &RemoteConfig, payload: &[u8]) -> Rejected {
    let before = r.clone();
    let rej = r.apply(payload).unwrap_err();
    assert_eq!(*r, before);
    assert!(!rej.error.reason.is_empty(), "{rej:?}");
    rej
}

fn field(r: &RemoteConfig, payload: &str) -> (String, String) {
    let e = reject(r, payload.as_bytes()).error;
    (e.field, e.reason)
}

#[test]
fn accepted_patch_changes_only_what_it_names() {
    let r = remote(0);
    let a = r
        .apply(br#"{"batch":{"max_edges":64},"_request":"r1"}"#)
        .unwrap();
    assert_eq!(a.config.batch.max_edges, 64);
    assert_eq!(a.config.batch.max_age_ms, 10);
    assert_eq!(a.config.inputs, r.config().inputs);
    assert_eq!(a.version, 1);
    assert_eq!(a.request.as_deref(), Some("r1"));
    assert!(a.changes.batch_changed && !a.changes.sampler_restart);
    assert_eq!(r.version(), 0, "apply alone changes nothing");
}

#[test]
fn envelope_rejections_name_field_and_reason() {
    let r = remote(0);
    let big = vec![b' '; MAX_PAYLOAD + 1];
    let e = reject(&r, &big).error;
    assert_eq!(e.field, "");
    assert!(e.reason.contains("65537 bytes"), "{e:?}");

    let e = reject(&r, b"{\"a\":\"\xff\"}").error;
    assert_eq!(e.reason, "not UTF-8: invalid byte at offset 6");

    let (f, reason) = field(&r, "{\"batch\":\n  {\"max_edges\": }}");
    assert_eq!(f, "");
    assert!(reason.contains("line 2 column"), "{reason}");

    let (f, reason) = field(&r, "[1,2]");
    assert_eq!(f, "");
    assert!(reason.contains("not an array"), "{reason}");

    let (f, reason) = field(&r, r#"{"_request": 5}"#);
    assert_eq!(
        (f.as_str(), reason.as_str()),
        ("_request", "must be a string, not a number")
    );
}

#[test]
fn request_is_echoed_on_rejection_when_readable() {
    let r = remote(0);
    let rej = reject(&r, br#"{"_request":"abc","_version":-1}"#);
    assert_eq!(rej.request.as_deref(), Some("abc"));
    assert_eq!(rej.error.field, "_version");
    let rej = reject(&r, br#"{"_request":"abc","inputs":[{"pin":60}]}"#);
    assert_eq!(rej.request.as_deref(), Some("abc"));
    assert_eq!(
        rej.error,
        FieldError::new("inputs[0].pin", "pin 60 is not a GPIO (0-53)")
    );
}

#[test]
fn version_rules() {
    let r = remote(5);
    let (f, reason) = field(&r, r#"{"_version": 3}"#);
    assert_eq!(
        (f.as_str(), reason.as_str()),
        ("_version", "stale: version 3 ≤ 5 in force")
    );
    let (_, reason) = field(&r, r#"{"_version": 5}"#);
    assert!(reason.starts_with("stale"));
    for bad in [r#""7""#, "7.5", "-1", "null", "18446744073709551616"] {
        let (f, _) = field(&r, &format!(r#"{{"_version": {bad}}}"#));
        assert_eq!(f, "_version", "{bad}");
    }
    assert_eq!(r.apply(br#"{"_version": 9}"#).unwrap().version, 9);
    assert_eq!(r.apply(b"{}").unwrap().version, 6);
    let top = remote(u64::MAX);
    assert_eq!(field(&top, "{}").0, "_version");
}

#[test]
fn a_version_may_not_jump_beyond_the_step_bound() {
    let r = remote(5);
    let (f, reason) = field(&r, r#"{"_version": 18446744073709551615}"#);
    assert_eq!(f, "_version");
    assert!(reason.contains("1000005"), "{reason}");
    let (f, _) = field(
        &r,
        &format!(r#"{{"_version": {}}}"#, 5 + MAX_VERSION_STEP + 1),
    );
    assert_eq!(f, "_version");
    let a = r
        .apply(format!(r#"{{"_version": {}}}"#, 5 + MAX_VERSION_STEP).as_bytes())
        .unwrap();
    assert_eq!(a.version, 5 + MAX_VERSION_STEP);
    // Retained or not: the bound holds for both deliveries.
    assert!(matches!(
        r.handle(br#"{"_version":18446744073709551615}"#, true),
        Handled::Rejected(_)
    ));
}

#[test]
fn no_op_patch_is_accepted_with_a_new_version_and_no_changes() {
    let r = remote(2);
    let a = r
        .apply(br#"{"device_id":"pi-01","batch":{"max_edges":512}}"#)
        .unwrap();
    assert_eq!(a.version, 3);
    assert_eq!(a.config, *r.config());
    assert!(a.changes.is_empty());
}

#[test]
fn local_only_keys_are_refused() {
    let r = remote(0);
    for (payload, key) in [
        (r#"{"device_id":"pi-02"}"#, "device_id"),
        (r#"{"device_id":5}"#, "device_id"),
        (r#"{"device_id":null}"#, "device_id"),
        (r#"{"groups":["lab","other"]}"#, "groups"),
        (r#"{"state_dir":"/tmp"}"#, "state_dir"),
        (
            r#"{"mqtt":{"embedded_broker":true}}"#,
            "mqtt.embedded_broker",
        ),
        (
            r#"{"sampler":{"replay":{"signal":"/etc/passwd"}}}"#,
            "sampler.replay.signal",
        ),
        // Removing the whole table would reset the signal path too.
        (r#"{"sampler":null}"#, "sampler.replay.signal"),
    ] {
        let (f, reason) = field(&r, payload);
        assert_eq!(f, key, "{payload}");
        assert!(reason.starts_with("local-only"), "{reason}");
    }
}

#[test]
fn unknown_keys_are_named_with_their_path() {
    let r = remote(0);
    for (payload, key) in [
        (r#"{"bogus":1}"#, "bogus"),
        (r#"{"_foo":1}"#, "_foo"),
        (r#"{"batch":{"max_edgez":3}}"#, "batch.max_edgez"),
        (
            r#"{"sampler":{"replay":{"speed":2}}}"#,
            "sampler.replay.speed",
        ),
        (
            r#"{"inputs":[{"pin":17},{"pin":18,"glitch":5}]}"#,
            "inputs[1].glitch",
        ),
    ] {
        let (f, reason) = field(&r, payload);
        assert_eq!(f, key, "{payload}");
        assert!(reason.starts_with("unknown key"), "{reason}");
    }
}

#[test]
fn wrong_types_and_invalid_values_are_named() {
    let r = remote(0);
    for (payload, key) in [
        (r#"{"inputs":[{"pin":17},{"pin":"x"}]}"#, "inputs[1].pin"),
        (r#"{"inputs":[{"pin":300}]}"#, "inputs[0].pin"),
        (r#"{"mqtt":{"port":"1883"}}"#, "mqtt.port"),
        (r#"{"batch":5}"#, "batch"),
        (r#"{"inputs":[{"pin":17},{"pin":17}]}"#, "inputs[1].pin"),
        (r#"{"inputs":[]}"#, "inputs"),
        (r#"{"inputs":null}"#, "inputs"),
        (
            r#"{"mqtt":{"rollback_after_s":1}}"#,
            "mqtt.rollback_after_s",
        ),
        (r#"{"mqtt":{"qos":3}}"#, "mqtt.qos"),
        (r#"{"sampler":{"period_us":0}}"#, "sampler.period_us"),
    ] {
        let (f, reason) = field(&r, payload);
        assert_eq!(f, key, "{payload}: {reason}");
    }
}

#[test]
fn secrets_are_local_only_and_the_placeholder_means_unchanged() {
    let r = remote(0);
    for payload in [
        r#"{"mqtt":{"password":"new"}}"#,
        r#"{"mqtt":{"password":null}}"#,
        r#"{"mqtt":{"password_file":"/tmp/pw"}}"#,
        r#"{"mqtt":{"password_credential":"pw"}}"#,
    ] {
        let (f, reason) = field(&r, payload);
        assert!(f.starts_with("mqtt.password"), "{payload}: {f}");
        assert!(reason.contains("never travels in a patch"), "{reason}");
    }
    for payload in [
        r#"{"mqtt":{"tls":{"ca_file":"/tmp/ca.pem"}}}"#,
        r#"{"mqtt":{"tls":{"cert_file":"/tmp/c.pem","key_file":"/tmp/k.pem"}}}"#,
    ] {
        let (f, reason) = field(&r, payload);
        assert!(f.starts_with("mqtt.tls."), "{payload}: {f}");
        assert!(reason.contains("local-only"), "{reason}");
    }
    // Sending back the published config, `***` and all, changes nothing.
    let published: Value = serde_json::from_str(&r.effective_json().unwrap()).unwrap();
    let back = published["config"].clone();
    assert_eq!(back["mqtt"]["password"], "***");
    let a = r.apply(back.to_string().as_bytes()).unwrap();
    assert_eq!(a.config, *r.config());
    assert_eq!(a.config.mqtt.password.as_deref(), Some("hunter2"));
}

#[test]
fn null_resets_a_key_to_its_default() {
    let r = remote(0);
    let mut r = r;
    let a = r.apply(br#"{"mqtt":{"port":1884}}"#).unwrap();
    r.commit(&a);
    let a = r.apply(br#"{"mqtt":{"port":null}}"#).unwrap();
    assert_eq!(a.config.mqtt.port, None);
    assert_eq!(a.config.mqtt.port(), 1883);
    assert!(a.changes.mqtt_reconnect);
}

#[test]
fn filter_change_and_new_pin_leave_the_sampler_running() {
    let r = remote(0);
    let a = r
        .apply(br#"{"inputs":[{"pin":17,"name":"door","glitch_us":1000},{"pin":18},{"pin":27}]}"#)
        .unwrap();
    assert_eq!(a.changes.filters_changed, vec![17]);
    assert_eq!(a.changes.pins_added, vec![27]);
    assert!(!a.changes.sampler_restart && !a.changes.mqtt_reconnect);
}

#[test]
fn commit_moves_the_config_in_force() {
    let mut r = remote(0);
    let a = r
        .apply(br#"{"_version":10,"batch":{"max_age_ms":50}}"#)
        .unwrap();
    r.commit(&a);
    assert_eq!(r.version(), 10);
    assert_eq!(r.config().batch.max_age_ms, 50);
    assert_eq!(r.file_config().batch.max_age_ms, 10);
    assert!(r.apply(br#"{"_version":10}"#).is_err());
}

#[test]
fn result_payloads_have_the_documented_shape() {
    let r = remote(0);
    let ok = r.apply(br#"{"_request":"r1"}"#);
    assert_eq!(
        result_json(&ok),
        r#"{"request":"r1","version":1,"ok":true}"#
    );
    let ok = r.apply(b"{}");
    assert_eq!(result_json(&ok), r#"{"version":1,"ok":true}"#);
    let err = r.apply(br#"{"_request":"r2","inputs":[{"pin":60}]}"#);
    assert_eq!(
        result_json(&err),
        r#"{"request":"r2","ok":false,"error":{"field":"inputs[0].pin","reason":"pin 60 is not a GPIO (0-53)"}}"#
    );
    let err = r.apply(b"nope");
    assert!(result_json(&err).starts_with(r#"{"ok":false,"error":{"field":"","reason":"bad JSON"#));

    let eff: Value = serde_json::from_str(&effective_json(r.config(), 7).unwrap()).unwrap();
    assert_eq!(eff["version"], 7);
    assert_eq!(eff["config"]["mqtt"]["password"], "***");
    assert_eq!(eff["config"]["device_id"], "pi-01");
}

#[test]
fn retained_patches() {
    let r = remote(5);
    assert!(is_stale_retained(
        br#"{"_version":5,"batch":{"max_edges":1}}"#,
        5
    ));
    assert!(!is_stale_retained(br#"{"_version":6}"#, 5));
    assert!(!is_stale_retained(br#"{"batch":{"max_edges":1}}"#, 5));
    assert!(!is_stale_retained(b"\xff", 5));
    assert_eq!(
        r.handle(br#"{"_version":4}"#, true),
        Handled::Stale { version: 4 }
    );
    // Not retained: a stale version gets a reply.
    assert!(matches!(
        r.handle(br#"{"_version":4}"#, false),
        Handled::Rejected(_)
    ));
    match r.handle(br#"{"_request":"q","batch":{"max_edges":1}}"#, true) {
        Handled::Rejected(rej) => {
            assert_eq!(rej.error.field, "_version");
            assert_eq!(rej.request.as_deref(), Some("q"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        r.handle(br#"{"_version":6,"batch":{"max_edges":1}}"#, true),
        Handled::Accepted(Accepted { version: 6, .. })
    ));
    assert!(matches!(r.handle(b"{}", false), Handled::Accepted(_)));
}

#[test]
fn a_patch_keyed_by_pin_changes_only_that_input() {
    let r = remote(0);
    let a = r.apply(br#"{"inputs":{"17":{"glitch_us":250}}}"#).unwrap();
    let door = a.config.inputs.iter().find(|i| i.pin == 17).unwrap();
    assert_eq!((door.name.as_str(), door.glitch_us), ("door", 250));
    assert_eq!(a.config.inputs.len(), 2);
    assert_eq!(a.changes.filters_changed, vec![17]);

    let a = r
        .apply(br#"{"inputs":{"18":null,"27":{"name":"window"}}}"#)
        .unwrap();
    let pins: Vec<(u8, &str)> = a
        .config
        .inputs
        .iter()
        .map(|i| (i.pin, i.name.as_str()))
        .collect();
    assert_eq!(pins, [(17, "door"), (27, "window")]);

    // The whole-list form still replaces the set.
    let a = r.apply(br#"{"inputs":[{"pin":18}]}"#).unwrap();
    assert_eq!(a.config.inputs.len(), 1);

    let (f, _) = field(&r, r#"{"inputs":{"door":{"glitch_us":1}}}"#);
    assert_eq!(f, "inputs.door");
    let (f, _) = field(&r, r#"{"inputs":{"17":{"pin":4}}}"#);
    assert_eq!(f, "inputs.17.pin");
    let (f, _) = field(&r, r#"{"inputs":{"17":{"glich_us":1}}}"#);
    assert!(f.starts_with("inputs[") && f.ends_with("glich_us"), "{f}");
}

/// A remote config whose input 18 is a kWh meter.
fn metered() -> RemoteConfig {
    let r = remote(1);
    let a = r
        .apply(br#"{"inputs":{"18":{"meter":{"pulses_per_unit":1000,"unit":"kWh"}}}}"#)
        .unwrap();
    assert_eq!(a.changes.meters_changed, vec![18]);
    assert_eq!(a.changes.publishing_changed, vec![18]);
    let mut r = r;
    r.commit(&a);
    r
}

#[test]
fn a_meter_reset_is_an_action_that_is_never_kept() {
    let mut r = metered();
    let a = r
        .apply(br#"{"inputs":{"18":{"meter":{"reset":true}}}}"#)
        .unwrap();
    assert_eq!(a.changes.meters_reset, vec![18]);
    assert!(a.changes.meters_changed.is_empty(), "{:?}", a.changes);
    let m = a.config.inputs[1].meter.as_ref().unwrap();
    assert!(!m.reset, "the config in force never says reset");
    assert_eq!((m.unit.as_str(), m.pulses_per_unit), ("kWh", 1000.0));
    r.commit(&a);
    assert!(r.effective_json().unwrap().contains(r#""reset":false"#));
    // The persisted layer cannot carry it either: a restart does not zero the total again.
    let dir = tempfile::tempdir().unwrap();
    crate::config::save(dir.path(), &r).unwrap();
    let text = std::fs::read_to_string(dir.path().join(crate::config::STATE_FILE)).unwrap();
    assert!(!text.contains("reset\": true"), "{text}");
    let back = crate::config::overlay(file_config(), dir.path()).unwrap();
    assert_eq!(back.config(), r.config());
}

#[test]
fn filter_and_interval_changes_are_not_resets() {
    let r = metered();
    let a = r
        .apply(br#"{"inputs":{"18":{"glitch_us":500,"meter":{"interval_s":30}}}}"#)
        .unwrap();
    assert_eq!(a.changes.filters_changed, vec![18]);
    assert_eq!(a.changes.meters_changed, vec![18]);
    assert!(a.changes.meters_reset.is_empty());
    assert!(a.changes.publishing_changed.is_empty());
    let m = a.config.inputs[1].meter.as_ref().unwrap();
    assert_eq!((m.interval_s, m.unit.as_str()), (30, "kWh"));
}

#[test]
fn patches_are_held_to_the_topic_rules_of_the_file() {
    let r = remote(0);
    // As long as a patch may carry (a 65,532-byte prefix is refused for the payload's size).
    let long = "a".repeat(65_000);
    let (f, reason) = field(&r, &format!(r#"{{"homeassistant":{{"prefix":"{long}"}}}}"#));
    assert_eq!(f, "homeassistant.prefix");
    assert!(reason.contains("65000 bytes"), "{reason}");
    for bad in ["$SYS", "fleet/$SYS", "a\\u0000b", "a/+", "a\\u001b"] {
        let (f, _) = field(&r, &format!(r#"{{"mqtt":{{"topic_prefix":"{bad}"}}}}"#));
        assert_eq!(f, "mqtt.topic_prefix", "{bad}");
    }
}

#[test]
fn a_group_patch_needs_a_version_whatever_its_retain_flag() {
    let r = remote(2);
    for retained in [false, true] {
        match r.handle_on(
            br#"{"_request":"g","batch":{"max_edges":9}}"#,
            retained,
            true,
        ) {
            Handled::Rejected(rej) => {
                assert_eq!(rej.error.field, "_version");
                assert_eq!(rej.request.as_deref(), Some("g"));
            }
            other => panic!("retained={retained}: {other:?}"),
        }
        assert!(matches!(
            r.handle_on(br#"{"_version":3,"batch":{"max_edges":9}}"#, retained, true),
            Handled::Accepted(_)
        ));
    }
    // The device's own topic keeps the old rule: a live patch may leave the version out.
    assert!(matches!(
        r.handle_on(br#"{"batch":{"max_edges":9}}"#, false, false),
        Handled::Accepted(_)
    ));
}

#[test]
fn a_result_says_when_the_patch_was_not_persisted() {
    let a = remote(0).apply(br#"{"_request":"r"}"#).unwrap();
    assert_eq!(
        result_json_kept(&Ok(a.clone()), Some("cannot write /x: read-only")),
        r#"{"request":"r","version":1,"ok":true,"persisted":false,"not_persisted":"cannot write /x: read-only"}"#
    );
    assert_eq!(
        result_json_kept(&Ok(a), None),
        r#"{"request":"r","version":1,"ok":true}"#
    );
}

#[test]
fn a_block_ms_patch_over_a_file_block_samples_is_refused_until_the_old_key_is_removed() {
    let file = FILE.replace(
        "[sampler.replay]",
        "[sampler]\nblock_samples = 1000\n[sampler.replay]",
    );
    let r = RemoteConfig::new(load_str(&file, Path::new("/etc/edgetap")).unwrap());
    let (f, reason) = field(&r, r#"{"sampler":{"block_ms":2}}"#);
    assert_eq!(f, "sampler.block_ms");
    assert!(reason.contains("sampler.block_samples"), "{reason}");
    let a = r
        .apply(br#"{"sampler":{"block_ms":2,"block_samples":null}}"#)
        .unwrap();
    assert_eq!(a.config.sampler.block_ms, Some(2));
    assert_eq!(a.config.sampler.samples_per_block(), 400);
    assert!(a.changes.sampler_restart);
}
