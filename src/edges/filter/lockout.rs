//! Lockout filter: after a reported edge, changes are held back for `lockout_us`.
//!
//! After an edge reported at `t`, input changes in `[t, t + lockout_us)` are not reported, but
//! the input level is tracked. At `t + lockout_us`, if the input differs from the last reported
//! level, that level is reported stamped exactly `t + lockout_us`, and the report starts a new
//! lockout. An input change exactly at `t + lockout_us` is outside the window: the end of the
//! lockout is resolved first, then the change is processed (and falls inside the new lockout if
//! the end produced a report). `advance(now)` releases end-of-lockout reports due at or before
//! `now`. 0 = pass-through.
//!
//! This is the usual "report the first edge at once, then at most one edge per `lockout_us`"
//! debounce: a button press is reported with no delay and its bounces are swallowed, and the
//! final level is never lost.

use super::{bit, Edge, Stage};

/// Lockout filter on the edges of one pin.
#[derive(Debug, Clone)]
pub struct LockoutFilter {
    pin: u8,
    lockout_us: u64,
    /// Last reported level.
    out: u8,
    /// Current input level.
    input: u8,
    /// The input's last change came after a gap: a report of it keeps the mark.
    input_gap: bool,
    /// End (exclusive) of the running lockout window, if any.
    window_end: Option<u64>,
    /// Latest time the input is known at.
    now: u64,
}

impl LockoutFilter {
    /// A lockout filter for `pin` starting at `initial_level`; `lockout_us` = 0 passes through.
    pub fn new(pin: u8, lockout_us: u64, initial_level: u8) -> Self {
        let level = bit(initial_level);
        LockoutFilter {
            pin,
            lockout_us,
            out: level,
            input: level,
            input_gap: false,
            window_end: None,
            now: 0,
        }
    }

    /// The end (exclusive) of the running lockout window, if any.
    pub fn window_end(&self) -> Option<u64> {
        self.window_end
    }

    fn report<F: FnMut(Edge)>(&mut self, level: u8, t_us: u64, after_gap: bool, emit: &mut F) {
        self.out = level;
        self.window_end = Some(t_us.saturating_add(self.lockout_us));
        emit(Edge {
            pin: self.pin,
            level,
            t_us,
            after_gap,
        });
    }

    /// Closes every window that ends at or before `t_us`, reporting the level held back.
    fn resolve<F: FnMut(Edge)>(&mut self, t_us: u64, emit: &mut F) {
        while let Some(end) = self.window_end {
            if end > t_us {
                break;
            }
            if self.input != self.out {
                // Opens a new window; the loop then closes it too if it is also over, which
                // cannot report again since input and output now agree.
                self.report(self.input, end, self.input_gap, emit);
            } else {
                self.window_end = None;
            }
        }
    }
}

impl Stage for LockoutFilter {
    fn push<F: FnMut(Edge)>(&mut self, e: Edge, emit: &mut F) {
        let t = e.t_us.max(self.now);
        let level = bit(e.level);
        self.now = t;
        if level == self.input {
            return;
        }
        self.resolve(t, emit);
        self.input = level;
        self.input_gap = e.after_gap;
        if self.lockout_us == 0 {
            self.out = level;
            emit(Edge {
                pin: self.pin,
                level,
                t_us: t,
                after_gap: e.after_gap,
            });
        } else if self.window_end.is_none() && level != self.out {
            self.report(level, t, e.after_gap, emit);
        }
    }

    fn advance<F: FnMut(Edge)>(&mut self, now_us: u64, emit: &mut F) {
        if now_us < self.now {
            return;
        }
        self.now = now_us;
        self.resolve(now_us, emit);
    }

    fn level(&self) -> u8 {
        self.out
    }

    fn is_passthrough(&self) -> bool {
        self.lockout_us == 0
    }
}

#[cfg(test)]
#[path = "lockout_tests.rs"]
mod tests;
