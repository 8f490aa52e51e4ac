//! Rate limit (flood protection): at most `max_edges_per_s` reported edges per second, on average.
//!
//! A token bucket on signal time: it holds up to `max_edges_per_s` tokens (a one-second burst),
//! starts full, and refills continuously at `max_edges_per_s` tokens per second; a reported edge
//! spends one token. So over any span of `d` seconds at most `max_edges_per_s × (1 + d)` edges
//! are reported, and a meter that stays under the limit on average, with bursts of up to a
//! second's worth above it, loses nothing. A token counts as available from the first whole
//! microsecond at which the bucket holds one.
//!
//! The rule, at every instant `t`: if the input level differs from the last reported level and a
//! token is available, that level is reported, stamped `t`. So a change is reported at once when
//! a token is there; otherwise it is held back, and
//!
//! * if the input changes back before a token is available, neither change is ever reported:
//!   both are dropped and counted;
//! * if a token becomes available while the input still differs, the input's level is reported,
//!   stamped with that instant (like the end of a lockout window), so the reported level never
//!   stays wrong and levels keep alternating. That report stands for the held-back change: it is
//!   delayed, not dropped.
//!
//! Hence, at any time: input edges = reported edges + dropped edges + (1 if a change is held
//! back). The dropped count is exact and final (never taken back); a pulse counter that adds
//! reported and dropped edges counts every real edge, up to the one held back.
//!
//! 0 = no limit (pass-through). The state is a few integers: no allocation, and a dropped edge
//! costs two comparisons.

use super::{bit, Edge, Stage};

/// The bucket's refill period: `max_edges_per_s` is a count per second.
const SECOND_US: u64 = 1_000_000;

/// Rate limiter on the edges of one pin.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    pin: u8,
    /// Tokens added per `window_us` and the bucket's size; 0 = no limit.
    per_window: u64,
    /// Refill period (µs): one second in production, shorter in tests.
    window_us: u64,
    /// Tokens in the bucket at `last`, in units of `1 / window_us` token (exact integers: each
    /// µs adds `per_window` units, a token is `window_us` units).
    credit: u64,
    /// Time `credit` was computed at.
    last: u64,
    /// First µs at which a whole token is available.
    ready_at: u64,
    /// Last reported level.
    out: u8,
    /// Current input level.
    input: u8,
    /// The input's last change came after a gap: a report of it keeps the mark.
    input_gap: bool,
    /// Latest time the input is known at.
    now: u64,
    /// Edges dropped and not yet taken by [`RateLimiter::take_dropped`].
    dropped: u64,
}

impl RateLimiter {
    /// A limiter for `pin` allowing `max_edges_per_s` (0 = no limit), starting at
    /// `initial_level` with a full bucket.
    pub fn new(pin: u8, max_edges_per_s: u32, initial_level: u8) -> Self {
        Self::per_window(pin, u64::from(max_edges_per_s), SECOND_US, initial_level)
    }

    /// A limiter allowing `per_window` edges per `window_us` (≥ 1) with a burst of
    /// `per_window`: the general form of [`RateLimiter::new`], so tests can use short windows.
    pub fn per_window(pin: u8, per_window: u64, window_us: u64, initial_level: u8) -> Self {
        let level = bit(initial_level);
        let window_us = window_us.max(1);
        RateLimiter {
            pin,
            per_window,
            window_us,
            credit: per_window.saturating_mul(window_us),
            last: 0,
            ready_at: 0,
            out: level,
            input: level,
            input_gap: false,
            now: 0,
            dropped: 0,
        }
    }

    /// Edges dropped since the last call (and forgets them).
    pub fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    /// Adds `edges` to the count not yet taken (that of a limiter this one replaces).
    pub fn carry_dropped(&mut self, edges: u64) {
        self.dropped += edges;
    }

    /// Whether an input change is held back waiting for a token.
    pub fn is_holding(&self) -> bool {
        self.input != self.out
    }

    /// Starts over with a new limit and a full bucket, keeping the count not yet taken.
    ///
    /// A change held back is reported now (at the latest time the input is known), so the
    /// reported level is the input's again; like any held-back change, it is delayed, not
    /// dropped.
    pub fn set_limit<F: FnMut(Edge)>(&mut self, max_edges_per_s: u32, emit: &mut F) {
        let mut fresh = RateLimiter::per_window(
            self.pin,
            u64::from(max_edges_per_s),
            self.window_us,
            self.input,
        );
        fresh.now = self.now;
        fresh.dropped = self.dropped;
        if self.is_holding() {
            emit(Edge {
                pin: self.pin,
                level: self.input,
                t_us: self.now,
                after_gap: self.input_gap,
            });
        }
        *self = fresh;
    }

    /// Reports `level` at `t_us` (≥ `ready_at`), spending a token.
    fn report<F: FnMut(Edge)>(&mut self, level: u8, t_us: u64, emit: &mut F) {
        let cap = self.per_window.saturating_mul(self.window_us);
        let refill = t_us
            .saturating_sub(self.last)
            .saturating_mul(self.per_window);
        // ready_at ≤ t_us guarantees a whole token here.
        self.credit = self.credit.saturating_add(refill).min(cap) - self.window_us;
        self.last = t_us;
        self.ready_at = if self.credit >= self.window_us {
            t_us
        } else {
            // Only with the bucket empty: a 64-bit division is slow on 32-bit ARM. per_window
            // ≥ 1 here (a limiter of 0 never reports through this path).
            let missing = self.window_us - self.credit;
            t_us.saturating_add(missing.div_ceil(self.per_window))
        };
        self.out = level;
        emit(Edge {
            pin: self.pin,
            level,
            t_us,
            after_gap: self.input_gap,
        });
    }
}

impl Stage for RateLimiter {
    fn push<F: FnMut(Edge)>(&mut self, e: Edge, emit: &mut F) {
        let t = e.t_us.max(self.now);
        let level = bit(e.level);
        self.now = t;
        if level == self.input {
            return;
        }
        if self.per_window == 0 {
            self.input = level;
            self.input_gap = e.after_gap;
            self.out = level;
            emit(Edge {
                pin: self.pin,
                level,
                t_us: t,
                after_gap: e.after_gap,
            });
            return;
        }
        // The held-back level lasted until t: a token available before t reports it.
        if self.input != self.out && self.ready_at < t {
            self.report(self.input, self.ready_at, emit);
        }
        self.input = level;
        self.input_gap = e.after_gap;
        if level == self.out {
            // Back to the reported level before a token came: the held change and this one.
            self.dropped += 2;
        } else if t >= self.ready_at {
            self.report(level, t, emit);
        }
    }

    fn advance<F: FnMut(Edge)>(&mut self, now_us: u64, emit: &mut F) {
        if now_us < self.now {
            return;
        }
        self.now = now_us;
        if self.input != self.out && self.ready_at <= now_us {
            self.report(self.input, self.ready_at, emit);
        }
    }

    fn level(&self) -> u8 {
        self.out
    }

    fn is_passthrough(&self) -> bool {
        self.per_window == 0
    }
}

#[cfg(test)]
#[path = "rate_tests.rs"]
mod tests;
