//! The subscriptions of our persistent MQTT session, remembered in `state_dir`.
//!
//! With `clean_session = false` the broker keeps our subscriptions across drops and restarts,
//! which is the point (patches sent while we are away are queued for us). The price: a
//! subscription we no longer want (the topic prefix changed, a group was removed from the file)
//! would keep delivering. MQTT 3.1.1 cannot list a session's subscriptions, so we remember what
//! we subscribed to and unsubscribe from whatever is no longer wanted at the next connect.
//!
//! The record decides; the link sends the [`Resubscribe`] it returns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tracing::warn;

use super::record::{read_set, write_atomically};

/// Name of the file in `state_dir`.
pub const SESSION_FILE: &str = "mqtt-session.json";

/// What to send the broker to move the session to the filters wanted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resubscribe {
    /// Filters to unsubscribe from, one UNSUBSCRIBE each.
    pub unsubscribe: Vec<String>,
    /// Filters to subscribe to (QoS 1), in one SUBSCRIBE; none: no SUBSCRIBE.
    pub subscribe: Vec<String>,
}

/// The filters the broker's session holds for us, as far as we know.
#[derive(Debug)]
pub struct SessionRecord {
    /// Where the record is kept; `None`: not kept (no state_dir given).
    path: Option<PathBuf>,
    /// Filters of the last subscription; `None`: unknown.
    last: Option<BTreeSet<String>>,
}

impl SessionRecord {
    /// A record that is not kept on disk.
    pub fn in_memory() -> Self {
        SessionRecord {
            path: None,
            last: None,
        }
    }

    /// Loads the record from `state_dir`; a missing or unreadable one means "unknown".
    pub fn load(state_dir: &Path) -> Self {
        let path = state_dir.join(SESSION_FILE);
        let last = read_set(&path).unwrap_or_else(|e| {
            warn!(file = %path.display(), error = %e, "unreadable MQTT session record; ignored");
            None
        });
        SessionRecord {
            path: Some(path),
            last,
        }
    }

    /// At a connect: subscribe to all of `wanted` (a broker restarted without persistence
    /// forgot the session) and unsubscribe from what the session held beyond it; records
    /// `wanted` as the session's filters.
    pub fn subscribe(&mut self, wanted: BTreeSet<String>) -> Resubscribe {
        let r = Resubscribe {
            unsubscribe: self.stale(&wanted),
            subscribe: wanted.iter().cloned().collect(),
        };
        self.remember(wanted);
        r
    }

    /// Moves the session to `wanted` while connected: unsubscribe what is no longer wanted and
    /// subscribe only to what is new (a full [`SessionRecord::subscribe`] would make the broker
    /// send every retained message on the other filters again).
    pub fn update(&mut self, wanted: BTreeSet<String>) -> Resubscribe {
        let subscribe = match &self.last {
            Some(last) => wanted.difference(last).cloned().collect(),
            None => wanted.iter().cloned().collect(),
        };
        let r = Resubscribe {
            unsubscribe: self.stale(&wanted),
            subscribe,
        };
        self.remember(wanted);
        r
    }

    /// Filters the session holds that are not in `wanted`.
    fn stale(&self, wanted: &BTreeSet<String>) -> Vec<String> {
        self.last
            .as_ref()
            .map(|last| last.difference(wanted).cloned().collect())
            .unwrap_or_default()
    }

    fn remember(&mut self, wanted: BTreeSet<String>) {
        if self.last.as_ref() == Some(&wanted) {
            return;
        }
        if let Some(path) = &self.path {
            if let Err(e) = write_atomically(path, &wanted) {
                warn!(file = %path.display(), error = %e,
                    "cannot record the MQTT session's topics; a later topic change may leave a stale subscription");
            }
        }
        self.last = Some(wanted);
    }
}

#[cfg(test)]
#[path = "subscriptions_tests.rs"]
mod tests;
