//! The subscriptions of our persistent MQTT session, remembered in `state_dir`.
//!
//! With `clean_session = false` the broker keeps our subscriptions across drops and restarts,
//! which is the point (patches sent while we are away are queued for us). The price: a
//! subscription we no longer want (the topic prefix changed, a group was removed from the file)
//! would keep delivering. MQTT 3.1.1 cannot list a session's subscriptions, so we remember what
//! we subscribed to and unsubscribe from whatever is no longer wanted at the next connect.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rumqttc::{AsyncClient, QoS, SubscribeFilter};
use tracing::{debug, warn};

/// Name of the file in `state_dir`.
pub const SESSION_FILE: &str = "mqtt-session.json";

/// The filters the broker's session holds for us, as far as we know.
#[derive(Debug)]
pub(crate) struct SessionRecord {
    /// Where the record is kept; `None`: not kept (no state_dir given).
    path: Option<PathBuf>,
    /// Filters of the last subscription; `None`: unknown.
    last: Option<BTreeSet<String>>,
}

impl SessionRecord {
    /// A record that is not kept on disk.
    pub(crate) fn in_memory() -> Self {
        SessionRecord {
            path: None,
            last: None,
        }
    }

    /// Loads the record from `state_dir`; a missing or unreadable one means "unknown".
    pub(crate) fn load(state_dir: &Path) -> Self {
        let path = state_dir.join(SESSION_FILE);
        let last = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<BTreeSet<String>>(&bytes) {
                Ok(set) => Some(set),
                Err(e) => {
                    warn!(file = %path.display(), error = %e, "unreadable MQTT session record; ignored");
                    None
                }
            },
            Err(_) => None,
        };
        SessionRecord {
            path: Some(path),
            last,
        }
    }

    /// Subscribes to `wanted` and unsubscribes from what the session held beyond it; records
    /// `wanted` as the session's filters.
    pub(crate) fn subscribe(&mut self, client: &AsyncClient, wanted: BTreeSet<String>) {
        for stale in self.stale(&wanted) {
            debug!(topic = %stale, "unsubscribing from a topic no longer wanted");
            if let Err(e) = client.try_unsubscribe(stale) {
                warn!(error = %e, "cannot unsubscribe from a stale topic");
            }
        }
        if !wanted.is_empty() {
            let filters: Vec<SubscribeFilter> = wanted
                .iter()
                .map(|t| SubscribeFilter::new(t.clone(), QoS::AtLeastOnce))
                .collect();
            if let Err(e) = client.try_subscribe_many(filters) {
                warn!(error = %e, "cannot subscribe");
            }
        }
        self.remember(wanted);
    }

    /// Moves the session to `wanted` while connected: unsubscribes what is no longer wanted and
    /// subscribes only to what is new (a full [`SessionRecord::subscribe`] would make the broker
    /// send every retained message on the other filters again).
    pub(crate) fn update(&mut self, client: &AsyncClient, wanted: BTreeSet<String>) {
        let new: Vec<String> = match &self.last {
            Some(last) => wanted.difference(last).cloned().collect(),
            None => wanted.iter().cloned().collect(),
        };
        for stale in self.stale(&wanted) {
            debug!(topic = %stale, "unsubscribing from a topic no longer wanted");
            if let Err(e) = client.try_unsubscribe(stale) {
                warn!(error = %e, "cannot unsubscribe from a stale topic");
            }
        }
        if !new.is_empty() {
            let filters: Vec<SubscribeFilter> = new
                .into_iter()
                .map(|t| SubscribeFilter::new(t, QoS::AtLeastOnce))
                .collect();
            if let Err(e) = client.try_subscribe_many(filters) {
                warn!(error = %e, "cannot subscribe");
            }
        }
        self.remember(wanted);
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

/// Writes `set` as a JSON list to `path` through a temporary file and a rename.
pub(crate) fn write_atomically(path: &Path, set: &BTreeSet<String>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(set).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn stale_filters_are_those_no_longer_wanted_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = SessionRecord::load(dir.path());
        assert!(
            r.stale(&set(&["a/x"])).is_empty(),
            "unknown: nothing to drop"
        );
        r.remember(set(&["a/x", "g/1"]));
        let r = SessionRecord::load(dir.path());
        assert_eq!(r.stale(&set(&["b/x", "g/1"])), vec!["a/x".to_string()]);
        assert!(r.stale(&set(&["a/x", "g/1"])).is_empty());
    }

    #[test]
    fn garbage_record_means_unknown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SESSION_FILE), b"{nope").unwrap();
        let r = SessionRecord::load(dir.path());
        assert!(r.stale(&set(&["a"])).is_empty());
    }

    #[test]
    fn in_memory_record_still_tracks_changes_within_the_process() {
        let mut r = SessionRecord::in_memory();
        r.remember(set(&["old/config/set"]));
        assert_eq!(
            r.stale(&set(&["new/config/set"])),
            vec!["old/config/set".to_string()]
        );
    }
}
