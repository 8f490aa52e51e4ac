//! What a config change means for the running agent: which parts must be rebuilt. Computed by a
//! pure diff so the agent rebuilds only what changed and keeps the rest (and its edges) running.
//!
//! Each section classifies its own keys (`classify` next to its rules), naming every key: a key
//! added to a section does not compile until someone decides what a change to it means, so no
//! key is accepted, persisted and answered `ok` yet only read at the next restart.

use super::changeset::ChangeSet;
use super::{inputs, sampler, Config};

/// Compares two configs and says what must be rebuilt to go from `old` to `new`.
pub fn diff(old: &Config, new: &Config) -> ChangeSet {
    let Config {
        device_id,
        groups,
        // Local-only (a patch cannot change it), read once at start.
        state_dir: _,
        // Local-only, applied once at start (privilege cannot come back to switch again).
        run_as: _,
        sampler,
        inputs,
        batch,
        mqtt,
        stats,
        homeassistant,
        spool,
    } = old;
    let mut c = ChangeSet::default();
    inputs::classify(inputs, &new.inputs, &mut c);
    sampler::classify(sampler, &new.sampler, &mut c);
    batch.classify(&new.batch, &mut c);
    mqtt.classify(&new.mqtt, &mut c);
    // The client id carries the device id, and so do the topics; groups are subscriptions.
    c.mqtt_reconnect |= *device_id != new.device_id;
    c.topics_changed |= *device_id != new.device_id || *groups != new.groups;
    stats.classify(&new.stats, &mut c);
    homeassistant.classify(&new.homeassistant, &mut c);
    spool.classify(&new.spool, &mut c);
    c
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
