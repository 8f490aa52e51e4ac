//! Glitch filter: a change is reported only if the new level then lasts `glitch_us`.
//!
//! An input change at `t` is reported, stamped `t` (not the time it was confirmed), iff the
//! input's next change comes at `t' ≥ t + glitch_us`, or never. So the change is held pending
//! until a later edge shows it lasted long enough (`t' - t ≥ glitch_us`) or `advance(now)` with
//! `now ≥ t + glitch_us` shows the same. A change back to the reported level while one is
//! pending cancels it: the pulse was a glitch and nothing is reported. 0 = pass-through.
//!
//! Unlike pigpio's `gpioGlitchFilter`, which stamps a change with the time it was confirmed,
//! edges keep their true time; the price is that output lags input by up to `glitch_us`, which
//! [`Stage::settled`] tells the next stage.

use super::{bit, Edge, Stage};

/// Glitch filter on the edges of one pin.
#[derive(Debug, Clone)]
pub struct GlitchFilter {
    pin: u8,
    glitch_us: u64,
    /// Last reported level.
    out: u8,
    /// Time of the unconfirmed change to `1 - out`, if the input is not at `out`.
    pending: Option<u64>,
    /// The pending change came after a gap: its report keeps the mark.
    pending_gap: bool,
    /// Latest time the input is known at.
    now: u64,
}

impl GlitchFilter {
    /// A glitch filter for `pin` starting at `initial_level`; `glitch_us` = 0 passes through.
    pub fn new(pin: u8, glitch_us: u64, initial_level: u8) -> Self {
        GlitchFilter {
            pin,
            glitch_us,
            out: bit(initial_level),
            pending: None,
            pending_gap: false,
            now: 0,
        }
    }

    /// The time of the change waiting for confirmation, if any.
    pub fn pending(&self) -> Option<u64> {
        self.pending
    }

    /// The current input level (the reported level unless a change is pending).
    fn input(&self) -> u8 {
        if self.pending.is_some() {
            1 - self.out
        } else {
            self.out
        }
    }

    /// Reports the pending change if the input has been known to hold it until `t_us`.
    fn confirm<F: FnMut(Edge)>(&mut self, t_us: u64, emit: &mut F) {
        if let Some(tp) = self.pending {
            if t_us >= tp.saturating_add(self.glitch_us) {
                self.pending = None;
                self.out = 1 - self.out;
                emit(Edge {
                    pin: self.pin,
                    level: self.out,
                    t_us: tp,
                    after_gap: self.pending_gap,
                });
            }
        }
    }
}

impl Stage for GlitchFilter {
    fn push<F: FnMut(Edge)>(&mut self, e: Edge, emit: &mut F) {
        let t = e.t_us.max(self.now);
        let level = bit(e.level);
        self.now = t;
        if level == self.input() {
            return;
        }
        // A next change at `t' = tp + glitch_us` means the level lasted exactly glitch_us: kept.
        self.confirm(t, emit);
        if self.pending.is_some() {
            // The input goes back to the reported level too early: the pulse was a glitch.
            self.pending = None;
        } else if self.glitch_us == 0 {
            self.out = level;
            emit(Edge {
                pin: self.pin,
                level,
                t_us: t,
                after_gap: e.after_gap,
            });
        } else {
            self.pending = Some(t);
            self.pending_gap = e.after_gap;
        }
    }

    fn advance<F: FnMut(Edge)>(&mut self, now_us: u64, emit: &mut F) {
        if now_us < self.now {
            return;
        }
        self.now = now_us;
        self.confirm(now_us, emit);
    }

    fn level(&self) -> u8 {
        self.out
    }

    fn is_passthrough(&self) -> bool {
        self.glitch_us == 0
    }

    fn settled(&self, now_us: u64) -> Option<u64> {
        // A pending change may still be reported, stamped with its own time.
        match self.pending {
            Some(tp) => tp.checked_sub(1).map(|s| s.min(now_us)),
            None => Some(now_us),
        }
    }
}

#[cfg(test)]
#[path = "glitch_tests.rs"]
mod tests;
