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
mod tests {
    use super::*;

    use crate::edges::filter::FilterSettings;

    fn lockout(us: u64) -> PinSettings {
        PinSettings::unlimited(FilterSettings {
            lockout_us: us,
            ..FilterSettings::default()
        })
    }

    fn e(pin: u8, level: u8, t_us: u64) -> Edge {
        Edge { pin, level, t_us }
    }

    fn lv(pin: u8, level: u8) -> PinLevel {
        PinLevel { pin, level }
    }

    #[test]
    fn routes_by_pin_and_drops_unknown() {
        let mut bank = FilterBank::new(
            &[(4, lockout(100)), (53, PinSettings::default())],
            &[lv(4, 0), lv(53, 1)],
        );
        assert_eq!(bank.pins(), &[4, 53]);
        let mut out = Vec::new();
        bank.push(e(4, 1, 10), &mut out);
        bank.push(e(53, 0, 11), &mut out);
        bank.push(e(5, 1, 12), &mut out); // not watched
        bank.push(e(60, 1, 12), &mut out); // not a GPIO
        bank.push(e(4, 0, 20), &mut out); // locked out
        assert_eq!(out, vec![e(4, 1, 10), e(53, 0, 11)]);
        bank.advance(110, &mut out);
        assert_eq!(out, vec![e(4, 1, 10), e(53, 0, 11), e(4, 0, 110)]);
        assert_eq!(bank.levels(), vec![lv(4, 0), lv(53, 0)]);
    }

    #[test]
    fn invalid_and_missing_inputs() {
        let bank = FilterBank::new(&[(54, lockout(1)), (7, lockout(1))], &[]);
        assert_eq!(bank.pins(), &[7]);
        assert_eq!(bank.levels(), vec![lv(7, 0)]);
        let mut bank = bank;
        assert_eq!(
            bank.set_input(200, lockout(1), 0),
            Err(FilterError::PinOutOfRange(200))
        );
        assert!(!bank.remove_input(200));
    }

    #[test]
    fn reconfiguring_one_pin_keeps_the_others() {
        let mut bank = FilterBank::new(
            &[(3, lockout(100)), (9, lockout(100))],
            &[lv(3, 0), lv(9, 0)],
        );
        let mut out = Vec::new();
        bank.push(e(3, 1, 0), &mut out);
        bank.push(e(9, 1, 0), &mut out);
        bank.push(e(3, 0, 50), &mut out);
        bank.push(e(9, 0, 50), &mut out);
        out.clear();
        // Pin 9 is rebuilt at its raw level 0: its pending end-of-lockout report is dropped.
        bank.set_input(9, PinSettings::default(), 0).unwrap();
        assert_eq!(bank.filter(9).map(|f| f.is_passthrough()), Some(true));
        bank.advance(100, &mut out);
        assert_eq!(out, vec![e(3, 0, 100)]);
        assert_eq!(bank.levels(), vec![lv(3, 0), lv(9, 0)]);

        assert!(bank.remove_input(3));
        assert!(!bank.remove_input(3));
        out.clear();
        bank.push(e(3, 1, 200), &mut out);
        bank.set_input(20, lockout(5), 1).unwrap();
        assert_eq!(bank.pins(), &[9, 20]);
        bank.push(e(20, 0, 300), &mut out);
        assert_eq!(out, vec![e(20, 0, 300)]);
    }

    fn limited(max_edges_per_s: u32) -> PinSettings {
        PinSettings {
            max_edges_per_s,
            ..PinSettings::default()
        }
    }

    #[test]
    fn rate_limit_of_one_pin_leaves_the_others() {
        let mut bank = FilterBank::new(&[(3, limited(2)), (9, limited(0))], &[lv(3, 0), lv(9, 0)]);
        let mut out = Vec::new();
        for t in 1..=10u64 {
            let level = (t % 2) as u8;
            bank.push(e(3, level, t), &mut out);
            bank.push(e(9, level, t), &mut out);
        }
        let of = |out: &[Edge], pin: u8| out.iter().filter(|x| x.pin == pin).count();
        assert_eq!((of(&out, 3), of(&out, 9)), (2, 10));
        let mut counts = Vec::new();
        bank.take_rate_limited(&mut counts);
        assert_eq!(counts, vec![RateLimited { pin: 3, edges: 8 }]);
        counts.clear();
        bank.take_rate_limited(&mut counts);
        assert!(counts.is_empty(), "counts are taken once");

        // Pin 3 is held back at 1 (reported 0 at 2): a new limit reports it, pin 9 is untouched.
        bank.push(e(3, 1, 11), &mut out);
        bank.push(e(9, 1, 11), &mut out);
        out.clear();
        assert!(bank.set_rate_limit(3, 100, &mut out));
        assert!(!bank.set_rate_limit(4, 100, &mut out));
        assert_eq!(out, vec![e(3, 1, 11)]);
        assert_eq!(bank.levels(), vec![lv(3, 1), lv(9, 1)]);

        // A rebuilt pin keeps the count not taken yet.
        bank.set_rate_limit(3, 1, &mut out);
        bank.push(e(3, 0, 12), &mut out);
        bank.push(e(3, 1, 13), &mut out);
        bank.push(e(3, 0, 14), &mut out);
        bank.set_input(3, limited(1), 0).unwrap();
        bank.take_rate_limited(&mut counts);
        assert_eq!(counts, vec![RateLimited { pin: 3, edges: 2 }]);
    }
}
