//! pigpio's noise filter (`gpioNoiseFilter(gpio, steady, active)`), reproduced on edges.
//!
//! # Source
//!
//! pigpio.c (joan2937/pigpio, version 77), `alertNoiseFilter()` run on every sample by the alert
//! thread, with state set up by `gpioNoiseFilter()`. Per pin it keeps `nfActive`, `nfTick1`,
//! `nfTick2`, `nfLBitV` (last input level) and `nfRBitV` (level forced while not active), and for
//! each sample (`level`, `tick`) does:
//!
//! ```text
//! if active:                      # reporting changes
//!     if tick - tick2 >= 0:       #   active period over
//!         active = 0; tick1 = tick
//! else:                           # waiting for a steady level
//!     if level != L:              #   a change
//!         diff = tick - tick1; tick1 = tick
//!         if diff >= steady:      #   the old level L was stable for `steady`
//!             R = L; active = 1; tick2 = tick + active_us
//! if not active: sample.level = R # report the level that was stable, hide the change
//! L = level
//! ```
//!
//! pigpio then reports a change whenever the (rewritten) level of a sample differs from the
//! previous one. `gpioNoiseFilter` enables the filter only when `steady` ≠ 0 and sets
//! `tick1 = tick2 = now`, `active = 0`.
//!
//! # Semantics implemented here
//!
//! This filter reports exactly what pigpio would report with **one sample per microsecond**
//! (the edges' own resolution), in continuous time:
//!
//! * Waiting: a change at `t` is hidden, and restarts the steady timer (`tick1 = t`), unless the
//!   previous level had been stable for at least `steady_us` (`t - tick1 ≥ steady_us`). Then the
//!   change is reported at `t` and an active period starts.
//! * Active, from the change at `t` until `E = t + max(active_us, 1)` exclusive: every change is
//!   reported as it happens. (`max(.., 1)` because pigpio checks the end only from the next sample
//!   on.)
//! * At `E` the filter goes back to waiting with the steady timer restarted at `E` (not at the
//!   last change), and the reported level returns to `R`, **the level that was stable before the
//!   active period**, if the input is not at that level. This is pigpio's behaviour: after a lone
//!   change the output shows a pulse of `active_us` and then stays at the old level until a later
//!   change after a new steady period. A change exactly at `E` is seen after the period ended and
//!   cannot start a new one (the steady timer restarts at `E`).
//! * `steady_us` = 0 disables the filter, whatever `active_us` (as pigpio).
//!
//! Deviations, both forced by having no clock and no sample period:
//!
//! * pigpio starts the steady timer when the filter is configured; here the initial level counts
//!   as stable since time 0, so the first change after start (or after a reconfiguration) opens an
//!   active period. pigpio also starts `L` and `R` at 0 (static storage); here both start at the
//!   initial level, which otherwise pigpio would hide until the first active period.
//! * With a sample period `p`, pigpio ends the active period at the first sample at or after
//!   `tick2`, i.e. up to `p - 1` µs after `E`; here it ends at `E` exactly.

use super::{bit, Edge, Stage};

/// pigpio's noise filter on the edges of one pin.
#[derive(Debug, Clone)]
pub struct NoiseFilter {
    pin: u8,
    steady_us: u64,
    active_us: u64,
    /// Last input level (pigpio `nfLBitV`).
    input: u8,
    /// Level reported while waiting: the one stable before the last active period (`nfRBitV`).
    stable: u8,
    /// Last reported level.
    out: u8,
    /// End of the active period when active (pigpio `nfActive` and `nfTick2`).
    active_until: Option<u64>,
    /// Start of the steady timer (pigpio `nfTick1`).
    steady_from: u64,
    /// Latest time the input is known at.
    now: u64,
}

impl NoiseFilter {
    /// A noise filter for `pin` starting at `initial_level`; `steady_us` = 0 disables it.
    pub fn new(pin: u8, steady_us: u64, active_us: u64, initial_level: u8) -> Self {
        let level = bit(initial_level);
        NoiseFilter {
            pin,
            steady_us,
            active_us,
            input: level,
            stable: level,
            out: level,
            active_until: None,
            steady_from: 0,
            now: 0,
        }
    }

    /// Whether an active period is running (changes are being reported).
    pub fn is_active(&self) -> bool {
        self.active_until.is_some()
    }

    fn report<F: FnMut(Edge)>(&mut self, level: u8, t_us: u64, after_gap: bool, emit: &mut F) {
        if level != self.out {
            self.out = level;
            emit(Edge {
                pin: self.pin,
                level,
                t_us,
                after_gap,
            });
        }
    }

    /// Ends the active period if it is over at `t_us`, reporting the stable level at its end.
    fn end_active<F: FnMut(Edge)>(&mut self, t_us: u64, emit: &mut F) {
        if let Some(end) = self.active_until {
            if end <= t_us {
                self.active_until = None;
                self.steady_from = end;
                // The return to the stable level is the filter's own change, not one across a gap.
                self.report(self.stable, end, false, emit);
            }
        }
    }
}

impl Stage for NoiseFilter {
    fn push<F: FnMut(Edge)>(&mut self, e: Edge, emit: &mut F) {
        let t = e.t_us.max(self.now);
        let level = bit(e.level);
        self.now = t;
        if level == self.input {
            return;
        }
        if self.steady_us == 0 {
            self.input = level;
            self.report(level, t, e.after_gap, emit);
            return;
        }
        // An end exactly at `t` is handled first; the change at `t` then finds the steady timer
        // restarted at `t` and cannot open a period, exactly like pigpio's if/else on one sample.
        self.end_active(t, emit);
        if self.active_until.is_some() {
            self.report(level, t, e.after_gap, emit);
        } else {
            let stable_for = t - self.steady_from;
            self.steady_from = t;
            if stable_for >= self.steady_us {
                self.stable = self.input;
                self.active_until = Some(t.saturating_add(self.active_us.max(1)));
                self.report(level, t, e.after_gap, emit);
            }
            // Otherwise the change is hidden: the output stays at `stable`.
        }
        self.input = level;
    }

    fn advance<F: FnMut(Edge)>(&mut self, now_us: u64, emit: &mut F) {
        if now_us < self.now {
            return;
        }
        self.now = now_us;
        self.end_active(now_us, emit);
    }

    fn level(&self) -> u8 {
        self.out
    }

    fn is_passthrough(&self) -> bool {
        self.steady_us == 0
    }
}

#[cfg(test)]
#[path = "noise_tests.rs"]
mod tests;
