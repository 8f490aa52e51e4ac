//! One [`PinFilter`] per watched pin, indexed by GPIO number.
//!
//! Routing is an index into a fixed table (GPIO 0–53), not a map lookup, since it runs for every
//! edge. Pins can be added, rebuilt or removed one at a time without touching the state of the
//! others, so a live reconfiguration of one input does not disturb the rest.

use super::chain::PinFilter;
use super::{bit, FilterError, PinSettings};
use crate::edges::{Edge, PinLevel, RateLimited, MAX_PIN};

const SLOTS: usize = MAX_PIN as usize + 1;

/// The filters of every watched pin.
#[derive(Debug, Clone)]
pub struct FilterBank {
    /// Slot n holds GPIO n's filter when watched.
    filters: Vec<Option<PinFilter>>,
    /// Watched pins in ascending order, so `advance` and `levels` skip empty slots.
    watched: Vec<u8>,
}

impl FilterBank {
    /// Filters for `inputs`, each starting at its level in `initial` (0 if missing).
    ///
    /// Pins above [`MAX_PIN`] are skipped with a warning (config validation rejects them); a pin
    /// listed twice keeps its last settings.
    pub fn new(inputs: &[(u8, PinSettings)], initial: &[PinLevel]) -> Self {
        let mut bank = FilterBank {
            filters: vec![None; SLOTS],
            watched: Vec::with_capacity(inputs.len()),
        };
        for &(pin, settings) in inputs {
            let level = match initial.iter().find(|l| l.pin == pin) {
                Some(l) => l.level,
                None => {
                    tracing::warn!(pin, "no initial level for pin, assuming 0");
                    0
                }
            };
            if let Err(err) = bank.set_input(pin, settings, level) {
                tracing::warn!(%err, "input skipped");
            }
        }
        bank
    }

    /// Routes `e` to its pin's filter; reported edges are appended to `out`.
    ///
    /// Edges of pins that are not watched are dropped.
    pub fn push(&mut self, e: Edge, out: &mut Vec<Edge>) {
        if let Some(Some(f)) = self.filters.get_mut(usize::from(e.pin)) {
            f.push(e, out);
        }
    }

    /// Declares every watched input unchanged up to `now_us`; edges now due go to `out`.
    ///
    /// Edges come pin by pin: time-ordered per pin, not across pins.
    pub fn advance(&mut self, now_us: u64, out: &mut Vec<Edge>) {
        for &pin in &self.watched {
            if let Some(Some(f)) = self.filters.get_mut(usize::from(pin)) {
                f.advance(now_us, out);
            }
        }
    }

    /// The last reported level of every watched pin, in pin order.
    pub fn levels(&self) -> Vec<PinLevel> {
        self.watched
            .iter()
            .filter_map(|&pin| {
                let f = self.filter(pin)?;
                Some(PinLevel {
                    pin,
                    level: f.level(),
                })
            })
            .collect()
    }

    /// The watched pins, in ascending order.
    pub fn pins(&self) -> &[u8] {
        &self.watched
    }

    /// The filter of `pin`, if watched.
    pub fn filter(&self, pin: u8) -> Option<&PinFilter> {
        self.filters.get(usize::from(pin))?.as_ref()
    }

    /// Builds a fresh filter for `pin` (adding the pin if new), starting at `current_level`.
    ///
    /// Other pins keep their state. The pin's previous filter state (pending changes, lockout
    /// window, rate-limit bucket) is dropped, and `current_level` becomes both its input and its
    /// reported level: pass the pin's current raw level, and if it differs from what was
    /// reported so far, the caller reports that change itself. A rate-limited count not yet
    /// taken is kept.
    pub fn set_input(
        &mut self,
        pin: u8,
        settings: PinSettings,
        current_level: u8,
    ) -> Result<(), FilterError> {
        let slot = self
            .filters
            .get_mut(usize::from(pin))
            .ok_or(FilterError::PinOutOfRange(pin))?;
        let replaced = slot.is_some();
        let mut fresh = PinFilter::new(pin, settings, bit(current_level));
        if let Some(old) = slot.as_mut() {
            fresh.carry_rate_limited(old.take_rate_limited());
        }
        *slot = Some(fresh);
        if let Err(at) = self.watched.binary_search(&pin) {
            self.watched.insert(at, pin);
        }
        tracing::debug!(pin, ?settings, replaced, "pin filter set");
        Ok(())
    }

    /// Gives `pin` a new rate limit, its other filters keeping their state (see
    /// [`PinFilter::set_rate_limit`]); returns whether the pin is watched.
    pub fn set_rate_limit(&mut self, pin: u8, max_edges_per_s: u32, out: &mut Vec<Edge>) -> bool {
        let Some(Some(f)) = self.filters.get_mut(usize::from(pin)) else {
            return false;
        };
        f.set_rate_limit(max_edges_per_s, out);
        tracing::debug!(pin, max_edges_per_s, "pin rate limit set");
        true
    }

    /// Appends, in pin order, the edges each pin's rate limit dropped since the last call (pins
    /// with none are left out).
    pub fn take_rate_limited(&mut self, out: &mut Vec<RateLimited>) {
        for &pin in &self.watched {
            if let Some(Some(f)) = self.filters.get_mut(usize::from(pin)) {
                let edges = f.take_rate_limited();
                if edges > 0 {
                    out.push(RateLimited { pin, edges });
                }
            }
        }
    }

    /// Stops filtering `pin`; its later edges are dropped. Returns whether it was watched.
    ///
    /// A rate-limited count not yet taken is lost with it: take counts before removing pins.
    pub fn remove_input(&mut self, pin: u8) -> bool {
        let removed = self
            .filters
            .get_mut(usize::from(pin))
            .and_then(Option::take)
            .is_some();
        if let Ok(at) = self.watched.binary_search(&pin) {
            self.watched.remove(at);
        }
        if removed {
            tracing::debug!(pin, "pin filter removed");
        }
        removed
    }
}

#[cfg(test)]
#[path = "bank_tests.rs"]
mod tests;
