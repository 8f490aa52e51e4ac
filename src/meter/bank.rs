//! The meters and watchdogs of all inputs, fed the filtered edges of every pin, kept across
//! config changes: a meter whose settings change keeps its total, a `reset` zeroes it, a meter
//! added starts at the total saved for its pin (0 when none).

use std::collections::BTreeMap;

use super::counter::{Meter, MeterReading};
use super::settings::MeterConfig;
use super::watchdog::{Watchdog, WatchdogEvent};
use crate::edges::{Edge, Gap, PinLevel};

/// What the meters need to know of one input.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterInput {
    /// BCM GPIO number.
    pub pin: u8,
    /// Its meter, if it has one.
    pub meter: Option<MeterConfig>,
    /// Its watchdog timeout (ms); 0: none.
    pub watchdog_ms: u64,
}

/// A message the meters want published.
#[derive(Debug, Clone, PartialEq)]
pub enum MeterEvent {
    /// A meter's interval reading (retained).
    Reading(MeterReading),
    /// A watchdog fired (not retained).
    Watchdog(WatchdogEvent),
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Meters {
    meters: BTreeMap<u8, Meter>,
    watchdogs: BTreeMap<u8, Watchdog>,
    /// The totals last handed out to be saved, and when.
    saved: BTreeMap<u8, u64>,
    saved_us: Option<u64>,
    /// Save at the next chance, whatever the time (a reset, a meter added or removed).
    save_now: bool,
}

impl Meters {
    /// The meters and watchdogs of `inputs`; meters start at their pin's entry in `totals`.
    pub fn new(inputs: &[MeterInput], totals: &BTreeMap<u8, u64>) -> Self {
        let mut m = Meters {
            saved: totals.clone(),
            ..Meters::default()
        };
        m.reconfigure(inputs, &[]);
        m.save_now = false;
        m.saved = m.totals();
        m
    }

    /// Whether no input has a meter or a watchdog.
    pub fn is_empty(&self) -> bool {
        self.meters.is_empty() && self.watchdogs.is_empty()
    }

    /// Switches to `inputs`: meters kept keep their total and measurements; `resets` names the
    /// pins whose total goes to zero (once: it is an action, not a setting).
    pub fn reconfigure(&mut self, inputs: &[MeterInput], resets: &[u8]) {
        let before = self.meters.len();
        self.meters
            .retain(|pin, _| inputs.iter().any(|i| i.pin == *pin && i.meter.is_some()));
        let mut changed = self.meters.len() != before;
        self.watchdogs
            .retain(|pin, _| inputs.iter().any(|i| i.pin == *pin && i.watchdog_ms > 0));
        for input in inputs {
            if let Some(config) = &input.meter {
                match self.meters.get_mut(&input.pin) {
                    Some(m) if m.config() == config => {}
                    Some(m) => m.set_config(config.clone()),
                    None => {
                        let start = self.saved.get(&input.pin).copied().unwrap_or(0);
                        self.meters
                            .insert(input.pin, Meter::new(input.pin, config.clone(), start));
                        changed = true;
                    }
                }
            }
            if input.watchdog_ms > 0 {
                self.watchdogs
                    .entry(input.pin)
                    .or_insert_with(|| Watchdog::new(input.pin, input.watchdog_ms))
                    .set_timeout(input.watchdog_ms);
            }
        }
        for pin in resets {
            if let Some(m) = self.meters.get_mut(pin) {
                m.reset();
                changed = true;
            }
        }
        self.save_now |= changed;
    }

    /// Levels of inputs that start being reported (state, not pulses).
    pub fn set_levels(&mut self, levels: &[PinLevel]) {
        for l in levels {
            if let Some(m) = self.meters.get_mut(&l.pin) {
                m.set_level(l.level);
            }
        }
    }

    /// A filtered edge.
    pub fn push(&mut self, e: &Edge) {
        if let Some(m) = self.meters.get_mut(&e.pin) {
            m.push(e);
        }
        if let Some(w) = self.watchdogs.get_mut(&e.pin) {
            w.push(e);
        }
    }

    /// Samples were lost.
    pub fn gap(&mut self, g: &Gap) {
        for m in self.meters.values_mut() {
            m.gap(g);
        }
    }

    /// The events due at `now_us` (signal time), appended to `out`: watchdogs first, so a
    /// meter whose input fell silent reports a rate of 0 in the same poll.
    pub fn poll(&mut self, now_us: u64, out: &mut Vec<MeterEvent>) {
        for (pin, w) in &mut self.watchdogs {
            if let Some(event) = w.poll(now_us) {
                if let Some(m) = self.meters.get_mut(pin) {
                    m.silence();
                }
                out.push(MeterEvent::Watchdog(event));
            }
        }
        for m in self.meters.values_mut() {
            if let Some(r) = m.poll(now_us) {
                out.push(MeterEvent::Reading(r));
            }
        }
    }

    /// The last reading of every meter at `now_us` (a clean stop).
    pub fn finish(&mut self, now_us: u64, out: &mut Vec<MeterEvent>) {
        for m in self.meters.values_mut() {
            out.push(MeterEvent::Reading(m.finish(now_us)));
        }
    }

    /// The total of every meter (pulses, by pin).
    pub fn totals(&self) -> BTreeMap<u8, u64> {
        self.meters.iter().map(|(p, m)| (*p, m.pulses())).collect()
    }

    /// The totals to save at `now_us`, if a save is due: every `persist_s` (the shortest of
    /// the meters) when they changed, and at once after a reset or a meter came or went. The
    /// caller saves them; they count as saved from here.
    pub fn save_due(&mut self, now_us: u64) -> Option<BTreeMap<u8, u64>> {
        let since = *self.saved_us.get_or_insert(now_us);
        let persist_us = self
            .meters
            .values()
            .map(|m| m.config().persist_s.max(1) * 1_000_000)
            .min()
            .unwrap_or(u64::MAX);
        let totals = self.totals();
        let due = self.save_now || now_us.saturating_sub(since) >= persist_us;
        if !due || (totals == self.saved && !self.save_now) {
            return None;
        }
        self.save_now = false;
        self.saved_us = Some(now_us);
        self.saved = totals.clone();
        Some(totals)
    }
}

#[cfg(test)]
#[path = "bank_tests.rs"]
mod tests;
