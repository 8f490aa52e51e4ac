//! `info` and Home Assistant discovery: both retained, built from the [`Description`] the agent
//! hands over (and again on every config change). The announcer decides what is due; the link
//! publishes what it offers and says when it went out.
//!
//! * `info` is published at every connect and whenever its payload changes (config version,
//!   pins, board after a sampler change, the spool's state).
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

use tracing::{debug, info, warn};

use super::record::{read_set, write_atomically};
use super::retained::{Due, RetainedSet};
use crate::stats::SpoolHealth;
use crate::wire::device::info_payload;
use crate::wire::discovery::{configs, ha_status_topic};
use crate::wire::{Description, Topics, ONLINE};

/// Name of the discovery record in `state_dir`.
pub const DISCOVERY_FILE: &str = "ha-discovery.json";

/// A retained publish the announcer offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// The `info` payload (on the device's `info` topic).
    Info(String),
    /// A discovery config, or the clear (empty payload) of one no longer wanted.
    Discovery(Due),
}

/// `info` and discovery state of one publisher.
#[derive(Debug, Default)]
pub struct Announcer {
    /// What is announced; `None`: nothing (a bare publisher without device description).
    desc: Option<Description>,
    /// The spool's state as `info` shows it; `None` until the link says.
    spool: Option<SpoolHealth>,
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
    pub fn load(state_dir: &Path) -> Self {
        let path = state_dir.join(DISCOVERY_FILE);
        let held = read_set(&path)
            .unwrap_or_else(|e| {
                warn!(file = %path.display(), error = %e,
                    "unreadable Home Assistant discovery record; configs an earlier run published may stay");
                None
            })
            .unwrap_or_default();
        Announcer {
            retained: RetainedSet::new(held.clone()),
            record: Some(path),
            on_disk: held,
            ..Default::default()
        }
    }

    /// The device as it is now, its topics under `topics`: `info` and the discovery configs
    /// that changed become due, those that went are cleared.
    pub fn describe(&mut self, d: Description, topics: &Topics) {
        let ha = &d.inventory.homeassistant;
        debug!(enabled = ha.enabled, prefix = %ha.prefix, config_version = d.inventory.config_version,
            "device description updated");
        self.desc = Some(d);
        self.refresh(topics);
    }

    /// What is announced, once described.
    pub fn description(&self) -> Option<&Description> {
        self.desc.as_ref()
    }

    /// The spool's state is now `h`: a change makes `info` due again (a retained `info` that
    /// says `ok` while the spool is off would hide that an outage will lose data).
    pub fn spool(&mut self, h: SpoolHealth, topics: &Topics) {
        if self.spool.as_ref() != Some(&h) {
            self.spool = Some(h);
            self.refresh(topics);
        }
    }

    /// A new client (other settings or topic prefix): every topic moves with `topics`, and the
    /// broker may hold none of the configs.
    pub fn moved(&mut self, topics: &Topics) {
        self.refresh(topics);
        self.retained.republish();
    }

    /// Recomputes `info` and the discovery configs for `topics`.
    fn refresh(&mut self, topics: &Topics) {
        let Some(d) = &self.desc else { return };
        let info = info_payload(d, self.spool.as_ref());
        if self.info.as_ref() != Some(&info) {
            self.info = Some(info);
            self.info_due = true;
        }
        self.retained.want(configs(d, topics));
    }

    /// `<ha prefix>/status` when discovery is on: subscribed to, `online` there = republish.
    pub fn ha_status(&self) -> Option<String> {
        let ha = &self.desc.as_ref()?.inventory.homeassistant;
        ha.enabled.then(|| ha_status_topic(&ha.prefix))
    }

    /// A message on `topic`: `online` on `<ha prefix>/status` republishes every discovery
    /// config. Returns false if `topic` is not a status topic. A status topic no longer
    /// followed (the unsubscribe is on its way) is taken too: a status is never a config patch.
    pub fn inbound(&mut self, topic: &str, payload: &[u8]) -> bool {
        if self.ha_status().as_deref() != Some(topic) {
            if topic.ends_with("/status") {
                debug!(
                    topic,
                    "message on a status topic no longer followed; ignored"
                );
                return true;
            }
            return false;
        }
        if payload == ONLINE.as_bytes() {
            info!(topic, "Home Assistant is online: republishing discovery");
            self.retained.republish();
        }
        true
    }

    /// The broker accepted a connection; `resumed`: it kept our session (and so, with it, the
    /// retained messages we gave it).
    pub fn connected(&mut self, resumed: bool) {
        self.info_due = self.info.is_some();
        if !resumed {
            self.retained.republish();
        }
    }

    /// Anything left to publish or clear. Nothing before a description arrived: a publisher
    /// that describes no device leaves the recorded configs alone.
    pub fn pending(&self) -> bool {
        self.desc.is_some() && ((self.info_due && self.info.is_some()) || self.retained.pending())
    }

    /// The next retained publish, if any: `info` first, then discovery. A discovery topic is
    /// recorded before it is offered: a crash after the publish leaves a topic to clear, never
    /// one we do not know we hold. Offering twice without [`Announcer::sent`] offers the same.
    pub fn offer(&mut self) -> Option<Announcement> {
        if !self.pending() {
            return None;
        }
        if self.info_due {
            if let Some(info) = &self.info {
                return Some(Announcement::Info(info.clone()));
            }
        }
        let due = self.retained.next()?;
        let first = self.retained.to_record(&due);
        if !first.is_empty() {
            self.retained.recorded(first);
            self.write_record();
        }
        Some(Announcement::Discovery(due))
    }

    /// `a` (offered by [`Announcer::offer`]) was handed to the client.
    pub fn sent(&mut self, a: Announcement) {
        match a {
            Announcement::Info(_) => self.info_due = false,
            Announcement::Discovery(due) => {
                if due.payload.is_empty() {
                    debug!(topic = %due.topic, "discovery config cleared");
                }
                self.retained.sent(due);
                if !self.retained.pending() {
                    // All out: the record may still list topics cleared since it was written.
                    self.write_record();
                }
            }
        }
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

#[cfg(test)]
#[path = "announce_tests.rs"]
mod tests;
