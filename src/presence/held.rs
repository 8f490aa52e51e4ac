//! The retained device topics of ours the broker may hold (`info`, `config`, `gpio/<pin>`, under
//! whichever prefix they were published), recorded in `<state_dir>/retained.json`: a restart
//! with another `topic_prefix` or fewer inputs in the config file clears what an earlier run
//! left, as a live change does. `status` is not recorded: it stays, saying `offline`, for
//! whoever still watches an old prefix.
//!
//! A topic is recorded *before* its first retained publish and forgotten once its clear was
//! handed to the client, so a crash leaves at worst a topic cleared twice, never one we do not
//! know we hold.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tracing::warn;

use super::record::{read_set, write_atomically};
use crate::wire::{Description, Topics};

/// Name of the record in `state_dir`.
pub const HELD_FILE: &str = "retained.json";

/// See the module documentation.
#[derive(Debug, Default)]
pub struct HeldTopics {
    /// Where the record lives; `None`: kept in memory only.
    path: Option<PathBuf>,
    held: BTreeSet<String>,
}

impl HeldTopics {
    /// A record kept in memory only (a publisher without `state_dir`).
    pub fn in_memory() -> Self {
        HeldTopics::default()
    }

    /// The record in `state_dir` (missing or unreadable: nothing held, said in the log).
    pub fn load(state_dir: &Path) -> Self {
        let path = state_dir.join(HELD_FILE);
        let held = read_set(&path)
            .unwrap_or_else(|e| {
                warn!(file = %path.display(), error = %e,
                    "unreadable record of retained topics; what an earlier run left may stay");
                None
            })
            .unwrap_or_default();
        HeldTopics {
            path: Some(path),
            held,
        }
    }

    /// Records `topic` before a retained publish to it. Called for every level published, so
    /// a topic already held costs a lookup, not an allocation.
    pub fn hold(&mut self, topic: &str) {
        if !self.held.contains(topic) {
            self.held.insert(topic.to_owned());
            self.write();
        }
    }

    /// Forgets `topic`: its clear was handed to the client.
    pub fn release(&mut self, topic: &str) {
        if self.held.remove(topic) {
            self.write();
        }
    }

    /// The topics held that are not in `current`: to clear.
    pub fn stale<'a>(
        &'a self,
        current: &'a BTreeSet<String>,
    ) -> impl Iterator<Item = &'a String> + 'a {
        self.held.difference(current)
    }

    /// The topics held that the device `d` does not use under `topics` (its `info`, `config`
    /// and the `gpio` topics of its inputs): another prefix (a live change, or one made while
    /// the agent was stopped), an input gone. `status` is never among them: it is not recorded.
    pub fn stale_for(&self, d: &Description, topics: &Topics) -> Vec<String> {
        let mut current = BTreeSet::from([topics.info(), topics.config()]);
        let inputs = &d.inventory.inputs;
        current.extend(
            inputs
                .iter()
                .filter(|i| i.publish_level)
                .map(|i| topics.gpio(i.pin)),
        );
        current.extend(
            inputs
                .iter()
                .filter(|i| i.meter.is_some())
                .map(|i| topics.meter(i.pin)),
        );
        self.stale(&current).cloned().collect()
    }

    /// Writes the record; a failure is logged and the publish goes ahead (a stale topic left
    /// behind is better than a level not published).
    fn write(&self) {
        let Some(path) = &self.path else { return };
        if let Err(e) = write_atomically(path, &self.held) {
            warn!(file = %path.display(), error = %e,
                "cannot record the retained topics; a later change may leave one behind");
        }
    }
}

#[cfg(test)]
#[path = "held_tests.rs"]
mod tests;
