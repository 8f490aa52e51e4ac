//! What a config change means for the running agent: which parts must be rebuilt. Computed by a
//! pure diff so the agent rebuilds only what changed and keeps the rest (and its edges) running.

use super::Config;
use std::collections::BTreeMap;

/// The parts of the running agent a config change touches. Empty = nothing to rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Pins watched now but not before (ascending): start decoding and filtering them.
    pub pins_added: Vec<u8>,
    /// Pins no longer watched (ascending): stop them and clear their retained state.
    pub pins_removed: Vec<u8>,
    /// Pins watched before and now whose filter settings differ (ascending): rebuild their
    /// filter; other pins keep their filter state.
    pub filters_changed: Vec<u8>,
    /// Pins whose rate limit (`max_edges_per_s`) changed (ascending): rebuild their limiter.
    pub limits_changed: Vec<u8>,
    /// Pins whose `name` or `device_class` alone changed (ascending): republish discovery and
    /// info only.
    pub names_changed: Vec<u8>,
    /// Backend, period, block size or replay settings changed: restart the sampler (with a gap
    /// event). Pins alone never restart it: the sampler reads every level anyway.
    pub sampler_restart: bool,
    /// Batch limits or queue size changed.
    pub batch_changed: bool,
    /// Host, port, credentials, keep-alive, topic prefix or embedded broker changed: reconnect,
    /// and arm the rollback timer (`mqtt.rollback_after_s`).
    pub mqtt_reconnect: bool,
    /// QoS, reconnect backoff or rollback timeout changed: the publisher takes them without
    /// reconnecting.
    pub mqtt_tuning: bool,
    /// Topic prefix, device id or groups changed: subscriptions and retained topics move.
    pub topics_changed: bool,
    /// The stats interval changed.
    pub stats_changed: bool,
    /// Home Assistant discovery settings changed: discovery is republished (or removed).
    pub homeassistant_changed: bool,
    /// Spool settings changed: the publisher reopens the spool with them (nothing spooled is
    /// lost; batches in flight are resent).
    pub spool_changed: bool,
}

impl ChangeSet {
    /// True when the change touches nothing the agent runs (e.g. a no-op patch).
    pub fn is_empty(&self) -> bool {
        *self == ChangeSet::default()
    }
}

/// Compares two configs and says what must be rebuilt to go from `old` to `new`.
pub fn diff(old: &Config, new: &Config) -> ChangeSet {
    // Keyed by pin: the order of `inputs` carries no meaning for the pipeline.
    let before: BTreeMap<u8, _> = old.inputs.iter().map(|i| (i.pin, i)).collect();
    let after: BTreeMap<u8, _> = new.inputs.iter().map(|i| (i.pin, i)).collect();
    let mut c = ChangeSet {
        pins_added: after
            .keys()
            .filter(|p| !before.contains_key(p))
            .copied()
            .collect(),
        pins_removed: before
            .keys()
            .filter(|p| !after.contains_key(p))
            .copied()
            .collect(),
        ..ChangeSet::default()
    };
    for (pin, a) in &after {
        if let Some(b) = before.get(pin) {
            if a.filter() != b.filter() {
                c.filters_changed.push(*pin);
            }
            if a.max_edges_per_s != b.max_edges_per_s {
                c.limits_changed.push(*pin);
            }
            if a.filter() == b.filter()
                && a.max_edges_per_s == b.max_edges_per_s
                && (a.name != b.name || a.device_class != b.device_class)
            {
                c.names_changed.push(*pin);
            }
        }
    }

    // A pin beyond GPIO 31 needs the second level word, which only a new chain reads.
    let words = |c: &Config| crate::block::LevelWords::for_pins(c.pins());
    c.sampler_restart = old.sampler != new.sampler || words(old) != words(new);
    c.batch_changed = old.batch != new.batch;

    let (m, n) = (&old.mqtt, &new.mqtt);
    c.mqtt_reconnect = m.host != n.host
        || m.port != n.port
        || m.username != n.username
        || m.password != n.password
        || m.keep_alive_s != n.keep_alive_s
        // The last will's topic carries the prefix, and it is fixed at connect time.
        || m.topic_prefix != n.topic_prefix
        || m.embedded_broker != n.embedded_broker
        // The client id carries the device id.
        || old.device_id != new.device_id;
    c.mqtt_tuning = m.qos != n.qos
        || m.reconnect_min_ms != n.reconnect_min_ms
        || m.reconnect_max_ms != n.reconnect_max_ms
        || m.rollback_after_s != n.rollback_after_s;
    c.topics_changed = m.topic_prefix != n.topic_prefix
        || old.device_id != new.device_id
        || old.groups != new.groups;
    c.stats_changed = old.stats != new.stats;
    c.homeassistant_changed = old.homeassistant != new.homeassistant;
    c.spool_changed = old.spool != new.spool;
    c
}

#[cfg(test)]
mod tests {
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
        }
    }

    fn config() -> Config {
        Config {
            device_id: "pi-01".into(),
            groups: vec![],
            state_dir: PathBuf::from("/var/lib/edgetap"),
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
            |c: &mut Config| c.sampler.block_samples = 10,
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

        for f in [
            |c: &mut Config| c.mqtt.host = "broker.lan".into(),
            |c: &mut Config| c.mqtt.port = 1884,
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
}
