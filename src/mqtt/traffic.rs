//! The small publishes of a connection, kept as state rather than as a queue of messages:
//! the status, the retained `config` and its results (the controller's traffic), the clears of
//! retained topics no longer used, and the retained level of each pin. After a reconnect the
//! state is published again; only the results are one-off messages.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::wire::{OFFLINE, ONLINE};

/// Results waiting for the broker; beyond this the oldest is dropped.
pub(crate) const MAX_RESULTS: usize = 64;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    /// Status payloads to publish, before anything else.
    status_out: VecDeque<&'static str>,
    /// The retained `config` payload, and whether this connection still needs it.
    config: Option<String>,
    config_due: bool,
    /// `config/result` payloads to publish.
    results_out: VecDeque<String>,
    /// MQTT 5 responses to publish: Response Topic, Correlation Data, payload.
    responses_out: VecDeque<(String, Option<Vec<u8>>, String)>,
    /// Retained topics of ours to delete with an empty payload: the gpio topic of a pin no
    /// longer watched, and what we left under a topic prefix we moved away from.
    cleared_out: VecDeque<String>,
    /// Latest level of every pin seen.
    known: BTreeMap<u8, u8>,
    /// Level last published per pin on this connection.
    published: BTreeMap<u8, u8>,
    /// Pins whose level is not published (`publish_level = false`).
    quiet: BTreeSet<u8>,
}

impl Traffic {
    /// A connection came up: `online` goes first, and a broker without persistence has
    /// forgotten our retained state, so all of it is published again.
    pub(crate) fn connected(&mut self) {
        self.published.clear();
        self.status_out.retain(|s| *s != ONLINE);
        self.status_out.push_front(ONLINE);
        self.config_due = self.config.is_some();
    }

    /// Queues the retained `offline` of a clean close.
    pub(crate) fn offline(&mut self) {
        self.status_out.push_back(OFFLINE);
    }

    /// Sets the retained `config` payload; due now.
    pub(crate) fn set_config(&mut self, payload: String) {
        self.config = Some(payload);
        self.config_due = true;
    }

    /// Queues a `config/result` payload (dropping the oldest beyond [`MAX_RESULTS`]).
    pub(crate) fn push_result(&mut self, payload: String) {
        if self.results_out.len() >= MAX_RESULTS {
            self.results_out.pop_front();
        }
        self.results_out.push_back(payload);
    }

    /// Queues clears of `topics`, except those already queued.
    pub(crate) fn clear(&mut self, topics: Vec<String>) -> Vec<String> {
        let new: Vec<String> = topics
            .into_iter()
            .filter(|t| !self.cleared_out.contains(t))
            .collect();
        self.cleared_out.extend(new.iter().cloned());
        new
    }

    /// The latest level of `pin` (ignored for a pin whose level is not published).
    pub(crate) fn level(&mut self, pin: u8, level: u8) {
        if !self.quiet.contains(&pin) {
            self.known.insert(pin, level);
        }
    }

    /// The pins whose level is not published: what is known of them is forgotten (their
    /// retained topic is cleared as a stale topic of the device).
    pub(crate) fn quiet(&mut self, pins: BTreeSet<u8>) {
        for pin in &pins {
            self.known.remove(pin);
            self.published.remove(pin);
        }
        self.quiet = pins;
    }

    /// `pin` is no longer watched: its retained `gpio_topic` is cleared.
    pub(crate) fn removed(&mut self, pin: u8, gpio_topic: String) {
        self.known.remove(&pin);
        self.published.remove(&pin);
        self.cleared_out.push_back(gpio_topic);
    }

    /// Pins with a known level.
    pub(crate) fn pins(&self) -> Vec<u8> {
        self.known.keys().copied().collect()
    }

    /// Clears not yet handed to the client.
    pub(crate) fn clears_pending(&self) -> bool {
        !self.cleared_out.is_empty()
    }

    /// The next status to publish.
    pub(crate) fn status(&self) -> Option<&'static str> {
        self.status_out.front().copied()
    }

    /// The status offered went out.
    pub(crate) fn status_sent(&mut self) {
        self.status_out.pop_front();
    }

    /// The retained `config`, if this connection still needs it.
    pub(crate) fn config(&self) -> Option<&String> {
        self.config.as_ref().filter(|_| self.config_due)
    }

    /// Queues an MQTT 5 response (dropping the oldest beyond [`MAX_RESULTS`]).
    pub(crate) fn push_response(
        &mut self,
        topic: String,
        correlation: Option<Vec<u8>>,
        payload: String,
    ) {
        if self.responses_out.len() >= MAX_RESULTS {
            self.responses_out.pop_front();
        }
        self.responses_out.push_back((topic, correlation, payload));
    }

    /// The oldest response not yet published.
    pub(crate) fn response(&self) -> Option<&(String, Option<Vec<u8>>, String)> {
        self.responses_out.front()
    }

    /// The oldest response went out.
    pub(crate) fn response_sent(&mut self) {
        self.responses_out.pop_front();
    }

    /// The `config` went out.
    pub(crate) fn config_sent(&mut self) {
        self.config_due = false;
    }

    /// The oldest result not yet published.
    pub(crate) fn result(&self) -> Option<&String> {
        self.results_out.front()
    }

    /// The oldest result went out.
    pub(crate) fn result_sent(&mut self) {
        self.results_out.pop_front();
    }

    /// The next topic to clear.
    pub(crate) fn cleared(&self) -> Option<&String> {
        self.cleared_out.front()
    }

    /// The clear of the front topic went out.
    pub(crate) fn cleared_sent(&mut self) {
        self.cleared_out.pop_front();
    }

    /// A pin whose level this connection has not published yet (lowest pin first).
    pub(crate) fn gpio(&self) -> Option<(u8, u8)> {
        self.known
            .iter()
            .find(|(pin, level)| self.published.get(pin) != Some(level))
            .map(|(p, l)| (*p, *l))
    }

    /// The level of `pin` went out.
    pub(crate) fn gpio_sent(&mut self, pin: u8, level: u8) {
        self.published.insert(pin, level);
    }
}
