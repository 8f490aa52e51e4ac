//! The publisher's side of `info` and Home Assistant discovery: both retained, built from the
//! [`Description`] the agent hands over (and again on every config change).
//!
//! * `info` is published at every connect and whenever its payload changes (config version,
//!   pins, board after a sampler change).
//! * Discovery configs are published after `online`, again when Home Assistant says `online`
//!   on `<ha prefix>/status`, and when they change; a config no longer wanted (input removed,
//!   `homeassistant.enabled = false`, prefix changed) is cleared with an empty retained payload.
//!   A reconnect that resumes the broker's session (ConnAck `session_present`) keeps them: the
//!   broker kept its retained messages too, so a reconnect storm does not republish them all.
//! * The topics that may hold a config of ours are recorded in `<state_dir>/ha-discovery.json`
//!   before publishing, so a restart after a config file change still clears what the earlier
//!   run published.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rumqttc::QoS;
use tracing::{debug, info, warn};

use super::retained::RetainedSet;
use super::session::Publisher;
use super::subscriptions::write_atomically;
use super::tracker::Tag;
use crate::wire::device::{info_payload, Description};
use crate::wire::discovery::{configs, ha_status_topic};
use crate::wire::status::ONLINE;
use crate::wire::topics::Topics;

/// Name of the discovery record in `state_dir`.
pub const DISCOVERY_FILE: &str = "ha-discovery.json";

/// `info` and discovery state of one publisher.
#[derive(Debug, Default)]
pub(crate) struct Announcer {
    /// What is announced; `None`: nothing (a bare publisher without device description).
    desc: Option<Description>,
    /// The `info` payload, and whether this connection still needs it.
    info: Option<String>,
    info_due: bool,
    /// The discovery configs.
    retained: RetainedSet,
    /// Where the record of held topics is kept, and what it says now.
    record: Option<PathBuf>,
    on_disk: BTreeSet<String>,
}

impl Announcer {
    /// An announcer whose record lives in `state_dir` (loaded now; missing = nothing held).
    pub(crate) fn load(state_dir: &Path) -> Self {
        let path = state_dir.join(DISCOVERY_FILE);
        let held: BTreeSet<String> = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                warn!(file = %path.display(), error = %e,
                    "unreadable Home Assistant discovery record; configs an earlier run published may stay");
                BTreeSet::new()
            }),
            Err(_) => BTreeSet::new(),
        };
        Announcer {
            retained: RetainedSet::new(held.clone()),
            record: Some(path),
            on_disk: held,
            ..Default::default()
        }
    }

    /// Recomputes `info` and the discovery configs for `topics`.
    fn refresh(&mut self, topics: &Topics) {
        let Some(d) = &self.desc else { return };
        let info = info_payload(d);
        if self.info.as_ref() != Some(&info) {
            self.info = Some(info);
            self.info_due = true;
        }
        self.retained.want(configs(d, topics));
    }

    /// `<ha prefix>/status` when discovery is on: subscribed to, `online` there = republish.
    pub(crate) fn ha_status(&self) -> Option<String> {
        let ha = &self.desc.as_ref()?.inventory.homeassistant;
        ha.enabled.then(|| ha_status_topic(&ha.prefix))
    }

    /// The broker accepted a connection; `resumed`: it kept our session (and so, with it, the
    /// retained messages we gave it).
    pub(crate) fn connected(&mut self, resumed: bool) {
        self.info_due = self.info.is_some();
        if !resumed {
            self.retained.republish();
        }
    }

    /// Anything left to publish or clear. Nothing before a description arrived: a publisher
    /// that describes no device leaves the recorded configs alone.
    pub(crate) fn pending(&self) -> bool {
        self.desc.is_some() && ((self.info_due && self.info.is_some()) || self.retained.pending())
    }

    /// Persists the held topics (when kept on disk); false if that failed.
    fn write_record(&mut self) -> bool {
        let held = self.retained.held();
        if self.on_disk == *held {
            return true;
        }
        let Some(path) = &self.record else {
            return true;
        };
        match write_atomically(path, held) {
            Ok(()) => {
                self.on_disk = held.clone();
                true
            }
            Err(e) => {
                warn!(file = %path.display(), error = %e,
                    "cannot record the Home Assistant discovery topics; a later change may leave a stale entity");
                false
            }
        }
    }
}

impl Publisher {
    /// Takes a new description of the device (at start and after every config change):
    /// republishes `info` and the discovery configs that changed, clears those that went, and
    /// follows a changed `<ha prefix>/status`.
    pub(crate) fn describe(&mut self, d: Description) {
        let before = self.announce.ha_status();
        let ha = &d.inventory.homeassistant;
        debug!(enabled = ha.enabled, prefix = %ha.prefix, config_version = d.inventory.config_version,
            "device description updated");
        self.announce.desc = Some(d);
        self.announce.refresh(&self.topics);
        let topics = self.topics.clone();
        self.clear_stale(&topics);
        if self.connected && self.announce.ha_status() != before {
            let wanted = self.wanted_subscriptions();
            self.session.update(&self.client, wanted);
        }
    }

    /// A new client (other settings or topic prefix): every topic moves with the prefix, and
    /// what the old client had queued is gone.
    pub(crate) fn announce_on_new_client(&mut self) {
        self.announce.refresh(&self.topics);
        self.announce.retained.republish();
        let topics = self.topics.clone();
        self.clear_stale(&topics);
    }

    /// Queues clears for the retained device topics recorded as held that the device in force,
    /// under `topics`, does not use: another prefix (a live change, or one made while the agent
    /// was stopped), an input gone. The old prefix keeps only `status` (`offline`, for whoever
    /// still watches it). Nothing before a description arrived: a bare publisher leaves the
    /// record alone.
    pub(crate) fn clear_stale(&mut self, topics: &Topics) {
        let Some(d) = &self.announce.desc else { return };
        let mut current = BTreeSet::from([topics.info(), topics.config()]);
        current.extend(d.inventory.inputs.iter().map(|i| topics.gpio(i.pin)));
        let stale: Vec<String> = self
            .held
            .stale(&current)
            .filter(|t| !self.cleared_out.contains(t))
            .cloned()
            .collect();
        if !stale.is_empty() {
            info!(topics = ?stale, "clearing retained topics the config in force no longer uses");
        }
        self.cleared_out.extend(stale);
    }

    /// A message on `<ha prefix>/status`: `online` republishes every discovery config.
    /// Returns false if `p` is on another topic. A status topic no longer followed (the
    /// unsubscribe is on its way) is taken too: a status is never a config patch.
    pub(super) fn ha_inbound(&mut self, p: &rumqttc::Publish) -> bool {
        if self.announce.ha_status().as_deref() != Some(p.topic.as_str()) {
            if p.topic.ends_with("/status") {
                debug!(topic = %p.topic, "message on a status topic no longer followed; ignored");
                return true;
            }
            return false;
        }
        if p.payload.as_ref() == ONLINE.as_bytes() {
            info!(topic = %p.topic, "Home Assistant is online: republishing discovery");
            self.announce.retained.republish();
        }
        true
    }

    /// Hands the next `info` or discovery publish to the client; false if there is none or the
    /// request channel is full.
    pub(crate) fn announce_one(&mut self) -> bool {
        if !self.connected || !self.announce.pending() {
            return false;
        }
        let a = &mut self.announce;
        if a.info_due {
            if let Some(info) = &a.info {
                self.held.hold(&self.topics.info());
                let res = self.client.try_publish(
                    self.topics.info(),
                    QoS::AtLeastOnce,
                    true,
                    info.clone(),
                );
                if res.is_err() {
                    return false;
                }
                a.info_due = false;
                self.tracker.submitted(Tag::Control);
                return true;
            }
        }
        let Some(due) = a.retained.next() else {
            return false;
        };
        let first = a.retained.to_record(&due);
        if !first.is_empty() {
            // Recorded before published: a crash now leaves a topic to clear, never one we
            // do not know we hold.
            a.retained.recorded(first);
            a.write_record();
        }
        let payload = due.payload.clone().into_bytes();
        if self
            .client
            .try_publish(due.topic.clone(), QoS::AtLeastOnce, true, payload)
            .is_err()
        {
            return false;
        }
        if due.payload.is_empty() {
            debug!(topic = %due.topic, "discovery config cleared");
        }
        a.retained.sent(due);
        if !a.retained.pending() {
            // All out: the record may still list topics cleared since it was written.
            a.write_record();
        }
        self.tracker.submitted(Tag::Control);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::device::tests::description;

    #[test]
    fn the_record_survives_a_restart_and_garbage_means_nothing_held() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Announcer::load(dir.path());
        a.desc = Some(description());
        a.refresh(&Topics::new("edgetap", "pi-01"));
        let due = a.retained.next().unwrap();
        let rec = a.retained.to_record(&due);
        assert_eq!(rec.len(), 17, "every config recorded at once");
        a.retained.recorded(rec);
        assert!(a.write_record());
        let b = Announcer::load(dir.path());
        assert_eq!(b.retained.held().len(), 17);
        assert_eq!(
            b.retained.next().unwrap().payload,
            "",
            "a fresh run clears until told"
        );

        std::fs::write(dir.path().join(DISCOVERY_FILE), b"[nope").unwrap();
        assert!(Announcer::load(dir.path()).retained.held().is_empty());
    }

    #[test]
    fn info_is_due_at_every_connect_and_on_change_only() {
        let dir = tempfile::tempdir().unwrap();
        let topics = Topics::new("edgetap", "pi-01");
        let mut a = Announcer::load(dir.path());
        assert!(!a.pending(), "nothing described, nothing to announce");
        a.desc = Some(description());
        a.refresh(&topics);
        assert!(a.info_due);
        a.info_due = false;
        a.refresh(&topics);
        assert!(!a.info_due, "same payload: not again");
        a.desc.as_mut().unwrap().inventory.config_version = 4;
        a.refresh(&topics);
        assert!(a.info_due, "new config version");
        a.info_due = false;
        a.connected(true);
        assert!(a.info_due, "every connect");
        assert_eq!(a.ha_status().as_deref(), Some("homeassistant/status"));
        a.desc.as_mut().unwrap().inventory.homeassistant.enabled = false;
        assert_eq!(a.ha_status(), None);
    }
}
