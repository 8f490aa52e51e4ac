//! Tests of the change classification: what each kind of change rebuilds.

use super::*;
use crate::config::{InputConfig, ReplayConfig, SamplerConfig};
use std::path::PathBuf;

fn input(pin: u8, glitch_us: u64) -> InputConfig {
    InputConfig {
        pin,
        name: format!("p{pin}"),
        glitch_us,
        lockout_us: 0,
        noise_steady_us: 0,
        noise_active_us: 0,
        max_edges_per_s: crate::config::DEFAULT_MAX_EDGES_PER_S,
        device_class: None,
        pull: Default::default(),
        invert: false,
        meter: None,
        watchdog_ms: 0,
        publish_edges: None,
        publish_level: None,
    }
}

fn config() -> Config {
    Config {
        device_id: "pi-01".into(),
        groups: vec![],
        state_dir: PathBuf::from("/var/lib/edgetap"),
        run_as: None,
        sampler: SamplerConfig {
            replay: ReplayConfig {
                signal: PathBuf::from("/x.vcd"),
                ..ReplayConfig::default()
            },
            ..SamplerConfig::default()
        },
        inputs: vec![input(17, 0), input(18, 0), input(27, 0)],
        batch: Default::default(),
        mqtt: Default::default(),
        stats: Default::default(),
        homeassistant: Default::default(),
        spool: Default::default(),
    }
}

#[test]
fn identical_configs_change_nothing() {
    assert!(diff(&config(), &config()).is_empty());
}

#[test]
fn pins_added_removed_and_refiltered_leave_the_sampler_alone() {
    let old = config();
    let mut new = config();
    new.inputs = vec![input(27, 0), input(17, 500), input(22, 0)];
    new.inputs[0].name = "window".into();
    let c = diff(&old, &new);
    assert_eq!(c.pins_added, vec![22]);
    assert_eq!(c.pins_removed, vec![18]);
    assert_eq!(c.filters_changed, vec![17]);
    assert_eq!(c.names_changed, vec![27]);
    assert!(!c.sampler_restart && !c.batch_changed && !c.mqtt_reconnect);
}

#[test]
fn rate_limits_device_classes_stats_and_discovery_are_told_apart() {
    let mut new = config();
    new.inputs[0].max_edges_per_s = 10;
    new.inputs[1].device_class = Some("door".into());
    new.stats.interval_s = 60;
    let c = diff(&config(), &new);
    assert_eq!(c.limits_changed, vec![17]);
    assert_eq!(c.names_changed, vec![18]);
    assert!(c.filters_changed.is_empty() && c.stats_changed && !c.homeassistant_changed);

    let mut new = config();
    new.homeassistant.enabled = false;
    let c = diff(&config(), &new);
    assert!(c.homeassistant_changed && !c.stats_changed && c.names_changed.is_empty());

    let mut new = config();
    new.spool.replay_rate = 5;
    let c = diff(&config(), &new);
    assert!(c.spool_changed && !c.homeassistant_changed && !c.sampler_restart);
}

#[test]
fn reordering_inputs_changes_nothing() {
    let mut new = config();
    new.inputs.reverse();
    assert!(diff(&config(), &new).is_empty());
}

#[test]
fn sampler_settings_restart_the_sampler() {
    for f in [
        |c: &mut Config| c.sampler.period_us = 10,
        |c: &mut Config| c.sampler.block_samples = Some(10),
        |c: &mut Config| c.sampler.block_ms = Some(2),
        |c: &mut Config| c.sampler.replay.realtime = false,
        |c: &mut Config| c.sampler.replay.start_us = Some(5),
    ] {
        let mut new = config();
        f(&mut new);
        let c = diff(&config(), &new);
        assert!(c.sampler_restart, "{c:?}");
        assert!(c.pins_added.is_empty() && !c.mqtt_reconnect, "{c:?}");
    }
}

#[test]
fn batch_and_mqtt_changes_are_told_apart() {
    let mut new = config();
    new.batch.max_edges = 7;
    let c = diff(&config(), &new);
    assert!(c.batch_changed && !c.mqtt_reconnect && !c.sampler_restart);
    let mut new = config();
    new.batch.format = crate::edges::batch::BatchFormat::Columnar;
    let c = diff(&config(), &new);
    assert!(
        c.batch_changed && !c.mqtt_reconnect && !c.sampler_restart,
        "{c:?}"
    );

    for f in [
        |c: &mut Config| c.mqtt.host = "broker.lan".into(),
        |c: &mut Config| c.mqtt.port = Some(1884),
        |c: &mut Config| c.mqtt.username = Some("u".into()),
        |c: &mut Config| c.mqtt.password = Some("p".into()),
        |c: &mut Config| c.mqtt.keep_alive_s = 60,
    ] {
        let mut new = config();
        f(&mut new);
        let c = diff(&config(), &new);
        assert!(
            c.mqtt_reconnect && !c.mqtt_tuning && !c.topics_changed,
            "{c:?}"
        );
    }

    let mut new = config();
    new.mqtt.topic_prefix = "fleet".into();
    let c = diff(&config(), &new);
    assert!(c.mqtt_reconnect && c.topics_changed);

    let mut new = config();
    new.mqtt.qos = 0;
    new.mqtt.rollback_after_s = 10;
    let c = diff(&config(), &new);
    assert!(c.mqtt_tuning && !c.mqtt_reconnect && !c.batch_changed);
}

#[test]
fn invert_refilters_and_pull_sets_the_pad_again_unless_it_becomes_keep() {
    use crate::config::Pull;
    let mut new = config();
    new.inputs[0].invert = true;
    new.inputs[1].pull = Pull::Up;
    let c = diff(&config(), &new);
    assert_eq!(c.filters_changed, vec![17]);
    assert_eq!(c.pulls_changed, vec![18]);
    assert!(!c.sampler_restart && c.names_changed.is_empty());

    // Back to keep: the pad stays as it was set; nothing to do.
    let c = diff(&new, &config());
    assert!(c.pulls_changed.is_empty());
    assert_eq!(c.filters_changed, vec![17]);

    let mut other = new.clone();
    other.inputs[1].pull = Pull::Down;
    assert_eq!(diff(&new, &other).pulls_changed, vec![18]);
}

#[test]
fn the_same_block_in_other_words_restarts_nothing() {
    // At 1 µs, 5 ms and 5000 samples are one block: switching keys rebuilds nothing.
    let mut old = config();
    old.sampler.period_us = 1;
    old.sampler.block_samples = Some(5000);
    let mut new = old.clone();
    new.sampler.block_samples = None;
    new.sampler.block_ms = Some(5);
    assert!(!diff(&old, &new).sampler_restart);
    // Unset is the default 5 ms.
    new.sampler.block_ms = None;
    assert!(!diff(&old, &new).sampler_restart);
    new.sampler.block_ms = Some(4);
    assert!(diff(&old, &new).sampler_restart);
}
