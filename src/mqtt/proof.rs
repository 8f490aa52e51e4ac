//! Whether a connection proves itself: every subscription granted (SUBACK), and a probe
//! published under the device's topics comes back on its own subscription. A broker can accept
//! a connection and then discard what it is sent: a `$`-topic, or an ACL that denies the
//! prefix (MQTT 3.1.1 has no way to tell the publisher); the probe is how edgetap notices.
//! The controller keeps a connection change only once it is proven, else rolls it back.
//!
//! Pure: the publisher feeds it the subscriptions it hands out and the packets of the event
//! loop, and publishes the probe when [`Proof::probe_due`] says so.

use std::collections::{BTreeMap, VecDeque};

/// The outcome of a connection's proof: `Err` says why it failed.
pub type Outcome = Result<(), String>;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Proof {
    /// A proof runs for the current connection.
    running: bool,
    /// SUBSCRIBEs handed to the client, not yet seen going out, in order.
    requested: VecDeque<Vec<String>>,
    /// SUBSCRIBEs written, by packet id, until their SUBACK.
    awaiting: BTreeMap<u16, Vec<String>>,
    /// Subscriptions granted so far on this connection.
    granted: usize,
    /// The probe payload of this connection.
    nonce: String,
    /// The probe was handed to the client.
    probe_sent: bool,
    outcome: Option<Outcome>,
}

impl Proof {
    /// A new connection: its proof starts over, expecting the probe `nonce`.
    pub(crate) fn start(&mut self, nonce: String) {
        *self = Proof {
            running: true,
            nonce,
            ..Proof::default()
        };
    }

    /// The connection is gone: nothing is proven or pending any more.
    pub(crate) fn stop(&mut self) {
        *self = Proof::default();
    }

    /// A SUBSCRIBE to `filters` was handed to the client.
    pub(crate) fn requested(&mut self, filters: Vec<String>) {
        if self.running && !filters.is_empty() {
            self.requested.push_back(filters);
        }
    }

    /// The client wrote a SUBSCRIBE with packet id `pkid` (in the order they were requested).
    pub(crate) fn subscribe_sent(&mut self, pkid: u16) {
        if let Some(filters) = self.requested.pop_front() {
            self.awaiting.insert(pkid, filters);
        }
    }

    /// The SUBACK of `pkid`: `granted[i]` says whether its i-th filter was granted. Returns
    /// the filters refused (for the log).
    pub(crate) fn suback(&mut self, pkid: u16, granted: &[bool]) -> Vec<String> {
        let Some(filters) = self.awaiting.remove(&pkid) else {
            return Vec::new();
        };
        let refused: Vec<String> = filters
            .iter()
            .enumerate()
            .filter(|(i, _)| !granted.get(*i).copied().unwrap_or(false))
            .map(|(_, f)| f.clone())
            .collect();
        self.granted += filters.len() - refused.len();
        if !refused.is_empty() && self.outcome.is_none() {
            self.outcome = Some(Err(format!(
                "the broker refused the subscription to {}",
                refused.join(", ")
            )));
        }
        refused
    }

    /// The probe's payload when it is due: every subscription of the connection granted, the
    /// probe not yet sent, no outcome yet.
    pub(crate) fn probe_due(&self) -> Option<&str> {
        let due = self.running
            && self.outcome.is_none()
            && !self.probe_sent
            && self.granted > 0
            && self.requested.is_empty()
            && self.awaiting.is_empty();
        due.then_some(self.nonce.as_str())
    }

    /// The client took the probe.
    pub(crate) fn probe_sent(&mut self) {
        self.probe_sent = true;
    }

    /// A message arrived on the probe topic: proven if it is this connection's probe.
    pub(crate) fn received(&mut self, payload: &[u8]) {
        if self.running && self.outcome.is_none() && payload == self.nonce.as_bytes() {
            self.outcome = Some(Ok(()));
        }
    }

    /// The outcome so far; `None` while the proof runs (or none runs).
    pub(crate) fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Whether the current connection is proven.
    pub(crate) fn proven(&self) -> bool {
        matches!(self.outcome, Some(Ok(())))
    }
}

#[cfg(test)]
#[path = "proof_tests.rs"]
mod tests;
