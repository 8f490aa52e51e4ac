//! Property test: `apply` over arbitrary payloads never panics, never moves the config in force,
//! and either yields a config that validates or a rejection with a reason.
//!
//! Case counts follow proptest's defaults (256); the heavier pass the issue asks for:
//! `PROPTEST_CASES=10000 cargo test --lib config::remote::proptests`.

use super::tests::file_config;
use super::*;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Map;

/// Keys of the config (and the envelope), so random patches often hit real fields.
const KEYS: &[&str] = &[
    "device_id",
    "groups",
    "state_dir",
    "sampler",
    "backend",
    "period_us",
    "block_samples",
    "block_ms",
    "replay",
    "signal",
    "realtime",
    "loop",
    "start_us",
    "inputs",
    "pin",
    "name",
    "glitch_us",
    "lockout_us",
    "noise_steady_us",
    "noise_active_us",
    "batch",
    "max_edges",
    "max_age_ms",
    "queue_batches",
    "format",
    "mqtt",
    "host",
    "port",
    "topic_prefix",
    "qos",
    "embedded_broker",
    "keep_alive_s",
    "username",
    "password",
    "reconnect_min_ms",
    "reconnect_max_ms",
    "rollback_after_s",
    "_version",
    "_request",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        select(vec![
            0i64,
            1,
            2,
            5,
            17,
            18,
            27,
            53,
            54,
            60,
            255,
            256,
            1883,
            3600,
            65_535,
            65_536,
            -1,
            1_000_000,
            3_600_000_001
        ])
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        select(vec![
            "",
            "pi-01",
            "***",
            "replay",
            "dma",
            "127.0.0.1",
            "broker.lan",
            "a/#",
            "lab",
            "columnar",
            "json"
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => select(KEYS).prop_map(String::from),
        1 => "[a-z_]{1,8}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects of config-like keys with arbitrary values: mostly rejected, in every way.
fn key_soup() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Patches shaped like the config with values around the limits: often accepted.
fn shaped() -> impl Strategy<Value = Value> {
    let input = (
        0u8..60,
        select(vec![0u64, 1, 1000, 3_600_000_000, 3_600_000_001]),
        select(vec![0u64, 50_000]),
        select(vec![(0u64, 0u64), (100, 1000), (5, 0)]),
    )
        .prop_map(|(pin, glitch, lockout, (steady, active))| {
            serde_json::json!({"pin": pin, "glitch_us": glitch, "lockout_us": lockout,
                "noise_steady_us": steady, "noise_active_us": active})
        });
    (
        prop::option::of((0u32..2_000_000, 0u32..2_000_000)),
        prop::option::of(prop::collection::vec(input, 0..4)),
        prop::option::of((0usize..70_000, 0u64..70_000)),
        prop::option::of((0u16..3, 0u8..4, 0u64..4000, leaf())),
        prop::option::of(0u64..10),
    )
        .prop_map(|(sampler, inputs, batch, mqtt, version)| {
            let mut p = Map::new();
            if let Some((period, block)) = sampler {
                p.insert(
                    "sampler".into(),
                    serde_json::json!({"period_us": period, "block_samples": block}),
                );
            }
            if let Some(inputs) = inputs {
                p.insert("inputs".into(), Value::Array(inputs));
            }
            if let Some((edges, age)) = batch {
                p.insert(
                    "batch".into(),
                    serde_json::json!({"max_edges": edges, "max_age_ms": age}),
                );
            }
            if let Some((port, qos, rollback, password)) = mqtt {
                p.insert(
                    "mqtt".into(),
                    serde_json::json!({"port": port, "qos": qos, "rollback_after_s": rollback,
                        "password": password}),
                );
            }
            if let Some(v) = version {
                p.insert("_version".into(), v.into());
            }
            Value::Object(p)
        })
}

/// Payload bytes: raw bytes, any JSON, config-like patches, and patches with one byte damaged.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => value().prop_map(|v| v.to_string().into_bytes()),
        2 => key_soup().prop_map(|v| v.to_string().into_bytes()),
        3 => shaped().prop_map(|v| v.to_string().into_bytes()),
        1 => (shaped(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(v, at, byte)| {
            let mut bytes = v.to_string().into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            bytes
        }),
    ]
}

fn check(r: &RemoteConfig, payload: &[u8]) -> Result<(), TestCaseError> {
    let before = r.clone();
    let result = r.apply(payload);
    prop_assert_eq!(r, &before, "apply must not move the config in force");
    match &result {
        Ok(a) => {
            prop_assert!(a.config.validate().is_ok(), "{:?}", a.config);
            prop_assert!(a.version > r.version());
            prop_assert_eq!(&a.config.device_id, &r.config().device_id);
            prop_assert_eq!(&a.config.groups, &r.config().groups);
            prop_assert_eq!(&a.config.state_dir, &r.config().state_dir);
            prop_assert_eq!(
                &a.config.sampler.replay.signal,
                &r.config().sampler.replay.signal
            );
            prop_assert_eq!(&a.changes, &diff(r.config(), &a.config));
        }
        Err(rej) => prop_assert!(!rej.error.reason.is_empty(), "{:?}", rej),
    }
    let reply: Value = serde_json::from_str(&result_json(&result))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(reply["ok"].as_bool(), Some(result.is_ok()));
    // The retained path parses the same bytes again; it must not panic either.
    let _ = r.handle(payload, true);
    Ok(())
}

proptest! {
    #[test]
    fn apply_never_panics_and_never_lets_an_invalid_config_through(
        version in select(vec![0u64, 3, u64::MAX - 1, u64::MAX]),
        bytes in payload(),
    ) {
        let mut r = RemoteConfig::new(file_config());
        r.version = version;
        check(&r, &bytes)?;
    }
}

/// Guards against a vacuous property: the shaped patches must reach both outcomes.
#[test]
fn shaped_patches_are_both_accepted_and_rejected() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let r = RemoteConfig::new(file_config());
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..500 {
        let patch = shaped().new_tree(&mut runner).unwrap().current();
        match r.apply(patch.to_string().as_bytes()) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok >= 25 && err >= 25, "accepted {ok}, rejected {err}");
}
