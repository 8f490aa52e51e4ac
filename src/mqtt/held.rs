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

use super::subscriptions::write_atomically;

/// Name of the record in `state_dir`.
pub const HELD_FILE: &str = "retained.json";

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct HeldTopics {
    /// Where the record lives; `None`: kept in memory only.
    path: Option<PathBuf>,
    held: BTreeSet<String>,
}

impl HeldTopics {
    /// A record kept in memory only (a publisher without `state_dir`).
    pub(crate) fn in_memory() -> Self {
        HeldTopics::default()
    }

    /// The record in `state_dir` (missing or unreadable: nothing held, said in the log).
    pub(crate) fn load(state_dir: &Path) -> Self {
        let path = state_dir.join(HELD_FILE);
        let held = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                warn!(file = %path.display(), error = %e,
                    "unreadable record of retained topics; what an earlier run left may stay");
                BTreeSet::new()
            }),
            Err(_) => BTreeSet::new(),
        };
        HeldTopics {
            path: Some(path),
            held,
        }
    }

    /// Records `topic` before a retained publish to it. Called for every level published, so
    /// a topic already held costs a lookup, not an allocation.
    pub(crate) fn hold(&mut self, topic: &str) {
        if !self.held.contains(topic) {
            self.held.insert(topic.to_owned());
            self.write();
        }
    }

    /// Forgets `topic`: its clear was handed to the client.
    pub(crate) fn release(&mut self, topic: &str) {
        if self.held.remove(topic) {
            self.write();
        }
    }

    /// The topics held that are not in `current`: to clear.
    pub(crate) fn stale<'a>(
        &'a self,
        current: &'a BTreeSet<String>,
    ) -> impl Iterator<Item = &'a String> + 'a {
        self.held.difference(current)
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
mod tests {
    use super::*;

    fn set(topics: &[&str]) -> BTreeSet<String> {
        topics.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn the_record_survives_a_restart_and_says_what_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = HeldTopics::load(dir.path());
        h.hold("edgetap/pi/info");
        h.hold("edgetap/pi/gpio/17");
        h.hold("edgetap/pi/gpio/18");
        h.release("edgetap/pi/gpio/18");
        let again = HeldTopics::load(dir.path());
        let now = set(&["fleet/pi/info", "fleet/pi/gpio/17"]);
        let stale: Vec<&String> = again.stale(&now).collect();
        assert_eq!(stale, ["edgetap/pi/gpio/17", "edgetap/pi/info"]);
        let same = set(&["edgetap/pi/info", "edgetap/pi/gpio/17"]);
        assert_eq!(again.stale(&same).count(), 0);
    }

    #[test]
    fn garbage_or_no_record_means_nothing_held_and_memory_only_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(HELD_FILE), b"[nope").unwrap();
        assert_eq!(HeldTopics::load(dir.path()).stale(&set(&[])).count(), 0);
        let mut m = HeldTopics::in_memory();
        m.hold("a/b/info");
        assert_eq!(m.stale(&set(&[])).count(), 1);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(HeldTopics::load(empty.path()).stale(&set(&[])).count(), 0);
    }
}
