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
            self.out = level;
            emit(Edge {
                pin: self.pin,
                level,
                t_us: t,
            });
            return;
        }
        // The held-back level lasted until t: a token available before t reports it.
        if self.input != self.out && self.ready_at < t {
            self.report(self.input, self.ready_at, emit);
        }
        self.input = level;
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
mod tests {
    use super::*;

    fn run(f: &mut RateLimiter, steps: &[(Option<u8>, u64)]) -> Vec<(u8, u64)> {
        super::super::drive(f, 5, steps)
    }

    /// Input edges alternating from level 1, one every `every_us` from `t0`.
    fn toggles(n: u64, t0: u64, every_us: u64) -> Vec<(Option<u8>, u64)> {
        (0..n)
            .map(|i| (Some(((i + 1) % 2) as u8), t0 + i * every_us))
            .collect()
    }

    #[test]
    fn zero_is_passthrough() {
        let mut f = RateLimiter::new(5, 0, 0);
        assert!(f.is_passthrough());
        let got = run(&mut f, &toggles(1000, 10, 1));
        assert_eq!(got.len(), 1000);
        assert_eq!(f.take_dropped(), 0);
    }

    #[test]
    fn burst_passes_then_one_edge_per_token() {
        // 4 edges per 100 µs: a burst of 4, then a token every 25 µs.
        let mut f = RateLimiter::per_window(5, 4, 100, 0);
        assert!(!f.is_passthrough());
        let got = run(&mut f, &toggles(4, 1000, 1));
        assert_eq!(got, vec![(1, 1000), (0, 1001), (1, 1002), (0, 1003)]);
        // The bucket is empty: the next token is whole at 1003 + 25.
        assert!(run(&mut f, &[(Some(1), 1004), (Some(0), 1010)]).is_empty());
        assert_eq!(f.take_dropped(), 2);
        assert_eq!(run(&mut f, &[(Some(1), 1028)]), vec![(1, 1028)]);
        assert_eq!(f.take_dropped(), 0, "taken counts are not repeated");
    }

    #[test]
    fn held_level_is_reported_when_a_token_comes() {
        let mut f = RateLimiter::per_window(5, 1, 100, 0);
        assert_eq!(run(&mut f, &[(Some(1), 10)]), vec![(1, 10)]);
        // Flood: 0 at 20, 1 at 30, 0 at 40, then quiet at 0 (≠ reported 1).
        assert!(run(&mut f, &[(Some(0), 20), (Some(1), 30), (Some(0), 40)]).is_empty());
        assert!(f.is_holding());
        assert!(run(&mut f, &[(None, 109)]).is_empty());
        assert_eq!(run(&mut f, &[(None, 110)]), vec![(0, 110)]);
        assert!(!f.is_holding());
        // 0@20 and 1@30 dropped; 0@40 was delayed to 110, not dropped.
        assert_eq!(f.take_dropped(), 2);
    }

    #[test]
    fn held_level_is_reported_before_a_later_change() {
        let mut f = RateLimiter::per_window(5, 1, 100, 0);
        assert_eq!(run(&mut f, &[(Some(1), 10), (Some(0), 20)]), vec![(1, 10)]);
        // The token came at 110 while the input was 0: reported then, and the change at 150
        // waits for the next token (at 210).
        assert_eq!(run(&mut f, &[(Some(1), 150)]), vec![(0, 110)]);
        assert_eq!(run(&mut f, &[(None, 250)]), vec![(1, 210)]);
        assert_eq!(f.take_dropped(), 0);
    }

    #[test]
    fn change_back_exactly_when_the_token_comes_drops_both() {
        // At 110 the input is back at the reported level: nothing to report, no zero-width pulse.
        let mut f = RateLimiter::per_window(5, 1, 100, 0);
        let got = run(&mut f, &[(Some(1), 10), (Some(0), 20), (Some(1), 110)]);
        assert_eq!(got, vec![(1, 10)]);
        assert_eq!(f.take_dropped(), 2);
        // The token is still there for the next change.
        assert_eq!(run(&mut f, &[(Some(0), 111)]), vec![(0, 111)]);
    }

    #[test]
    fn bucket_refills_to_its_size_only() {
        let mut f = RateLimiter::per_window(5, 3, 30, 0);
        run(&mut f, &toggles(3, 0, 1));
        // A long silence refills 3 tokens, not more.
        let steps: Vec<_> = (0..6u64)
            .map(|i| (Some((i % 2) as u8), 1_000_000 + i))
            .collect();
        let got = run(&mut f, &steps);
        assert_eq!(got.len(), 3);
        assert_eq!(f.take_dropped(), 2, "the 4th and 5th dropped, the 6th held");
        assert!(f.is_holding());
    }

    #[test]
    fn fractional_refill_is_exact_over_time() {
        // 3 edges per 1000 µs: tokens at 333.3…, 666.6…, 1000 µs after an empty bucket, so at
        // the first whole µs 334, 667 and 1000.
        let mut f = RateLimiter::per_window(5, 3, 1000, 0);
        run(&mut f, &toggles(3, 0, 0));
        let steps: Vec<_> = (1..=1000).map(|t| (Some((t % 2) as u8), t)).collect();
        let got = run(&mut f, &steps);
        let times: Vec<u64> = got.iter().map(|&(_, t)| t).collect();
        assert_eq!(times, vec![334, 667, 1000]);
    }

    #[test]
    fn one_second_limit_over_a_flood() {
        // 200,000 edges/s for 2 s against 25,000/s: a second's burst plus 2 s of refill.
        let mut f = RateLimiter::new(5, 25_000, 0);
        let mut out = 0u64;
        let mut emit = |_: Edge| out += 1;
        let start = 1_764_040_000_000_000;
        for i in 0..400_000u64 {
            let e = Edge {
                pin: 5,
                level: ((i + 1) % 2) as u8,
                t_us: start + i * 5,
            };
            f.push(e, &mut emit);
        }
        f.advance(start + 2_000_000, &mut emit);
        let held = u64::from(f.is_holding());
        let dropped = f.take_dropped();
        // At most the burst plus two seconds of refill, and every token is used.
        assert!((74_990..=75_000).contains(&out), "{out} reported");
        assert_eq!(out + dropped + held, 400_000, "every edge accounted for");
    }

    #[test]
    fn new_limit_reports_a_held_level_and_keeps_the_count() {
        let mut f = RateLimiter::new(5, 1, 0);
        let got = run(
            &mut f,
            &[(Some(1), 10), (Some(0), 20), (Some(1), 30), (Some(0), 40)],
        );
        assert_eq!(got, vec![(1, 10)]);
        let mut out = Vec::new();
        f.set_limit(100, &mut |e: Edge| out.push((e.level, e.t_us)));
        assert_eq!(out, vec![(0, 40)]);
        assert!(!f.is_holding());
        assert_eq!(f.take_dropped(), 2);
        // A fresh, full bucket of 100.
        assert_eq!(run(&mut f, &toggles(100, 50, 1)).len(), 100);
        // Earlier than known: treated as happening at the latest known time.
        let mut f = RateLimiter::new(5, 1, 0);
        run(&mut f, &[(None, 500)]);
        f.set_limit(0, &mut |_| {});
        assert_eq!(run(&mut f, &[(Some(1), 10)]), vec![(1, 500)]);
    }
}
