//! Retained messages we own on the broker (the discovery configs), as a pure state machine:
//! which to publish, which to clear with an empty retained payload, and which topics may still
//! hold something of ours (kept in `state_dir`, so a restart after a config change still
//! clears what the previous run published).
//!
//! Three sets: `desired` (topic → payload the broker should hold), `published` (what this
//! connection's session has been given), `held` (every topic the broker may hold a message of
//! ours on: a superset of `published`, grown *before* publishing, shrunk after a clear was
//! handed to the client).

use std::collections::{BTreeMap, BTreeSet};

/// One retained publish to make: `payload` empty = clear the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The topic.
    pub topic: String,
    /// The payload; empty clears the topic.
    pub payload: String,
}

/// See the module documentation.
#[derive(Debug, Default, Clone)]
pub struct RetainedSet {
    desired: BTreeMap<String, String>,
    published: BTreeMap<String, String>,
    held: BTreeSet<String>,
}

impl RetainedSet {
    /// Starts with `held`, the topics an earlier run may have left retained.
    pub fn new(held: BTreeSet<String>) -> Self {
        RetainedSet {
            held,
            ..Default::default()
        }
    }

    /// The broker should hold exactly `desired` (of the topics we own).
    pub fn want(&mut self, desired: BTreeMap<String, String>) {
        self.desired = desired;
    }

    /// The broker may have lost what this session published (a new session, a new client,
    /// Home Assistant asking again): publish everything desired again.
    pub fn republish(&mut self) {
        self.published.clear();
    }

    /// The next publish to make, if any: clears first, then changed or missing configs.
    /// Clears go first because Home Assistant frees an entity id only when the entity's config
    /// is cleared: a config that moved to a new topic (a new unique id, a renamed device) then
    /// takes the entity id, and with it the history, of the one it replaces.
    pub fn next(&self) -> Option<Due> {
        let clear = self
            .held
            .iter()
            .find(|t| !self.desired.contains_key(*t))
            .map(|t| Due {
                topic: t.clone(),
                payload: String::new(),
            });
        clear.or_else(|| {
            self.desired
                .iter()
                .find(|(t, p)| self.published.get(*t) != Some(*p))
                .map(|(t, p)| Due {
                    topic: t.clone(),
                    payload: p.clone(),
                })
        })
    }

    /// Topics to add to `held` (and to persist) before `due` may be published; empty when
    /// nothing needs recording first. Every desired topic goes in at once, so a first start
    /// writes the record once rather than once per config.
    pub fn to_record(&self, due: &Due) -> Vec<String> {
        if due.payload.is_empty() || self.held.contains(&due.topic) {
            return Vec::new();
        }
        self.desired
            .keys()
            .filter(|t| !self.held.contains(*t))
            .cloned()
            .collect()
    }

    /// `topics` are recorded (persisted): they may now be published.
    pub fn recorded(&mut self, topics: Vec<String>) {
        self.held.extend(topics);
    }

    /// `due` was handed to the client.
    pub fn sent(&mut self, due: Due) {
        if due.payload.is_empty() {
            self.published.remove(&due.topic);
            self.held.remove(&due.topic);
        } else {
            debug_assert!(self.held.contains(&due.topic), "published before recorded");
            self.published.insert(due.topic, due.payload);
        }
    }

    /// The topics that may hold a message of ours.
    pub fn held(&self) -> &BTreeSet<String> {
        &self.held
    }

    /// Whether anything is left to publish or clear.
    pub fn pending(&self) -> bool {
        self.next().is_some()
    }
}

#[cfg(test)]
#[path = "retained_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "retained_proptests.rs"]
mod proptests;
