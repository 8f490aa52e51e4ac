//! The meters' publishes, kept as state: the latest reading of each meter (retained on
//! `gpio/<pin>/meter`, published again after a reconnect, only the latest when several wait)
//! and the watchdog events (one-off messages on `gpio/<pin>/watchdog`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::meter::MeterEvent;
use crate::wire::meter::{meter_json, watchdog_json};

/// Watchdog events waiting for the broker; beyond this the oldest is dropped.
const MAX_WATCHDOG_EVENTS: usize = 64;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Metering {
    /// The latest reading of each meter, encoded.
    latest: BTreeMap<u8, String>,
    /// Meters whose latest reading this connection has not published.
    due: BTreeSet<u8>,
    /// Watchdog events to publish (pin, payload).
    watchdogs: VecDeque<(u8, String)>,
}

impl Metering {
    /// A connection came up: every latest reading is published again.
    pub(crate) fn connected(&mut self) {
        self.due = self.latest.keys().copied().collect();
    }

    /// Takes an event from the sampling side.
    pub(crate) fn accept(&mut self, e: MeterEvent) {
        match e {
            MeterEvent::Reading(r) => {
                self.latest.insert(r.pin, meter_json(&r));
                self.due.insert(r.pin);
            }
            MeterEvent::Watchdog(w) => {
                if self.watchdogs.len() >= MAX_WATCHDOG_EVENTS {
                    self.watchdogs.pop_front();
                }
                self.watchdogs.push_back((w.pin, watchdog_json(&w)));
            }
        }
    }

    /// `pin` has no meter any more: nothing of it is published.
    pub(crate) fn forget(&mut self, pin: u8) {
        self.latest.remove(&pin);
        self.due.remove(&pin);
    }

    /// The next reading to publish (lowest pin first).
    pub(crate) fn reading(&self) -> Option<(u8, &String)> {
        let pin = *self.due.iter().next()?;
        self.latest.get(&pin).map(|p| (pin, p))
    }

    /// The reading of `pin` went out.
    pub(crate) fn reading_sent(&mut self, pin: u8) {
        self.due.remove(&pin);
    }

    /// The oldest watchdog event not yet published.
    pub(crate) fn watchdog(&self) -> Option<&(u8, String)> {
        self.watchdogs.front()
    }

    /// The oldest watchdog event went out.
    pub(crate) fn watchdog_sent(&mut self) {
        self.watchdogs.pop_front();
    }

    /// Something is still to publish.
    pub(crate) fn pending(&self) -> bool {
        !self.due.is_empty() || !self.watchdogs.is_empty()
    }
}

#[cfg(test)]
#[path = "metering_tests.rs"]
mod tests;
