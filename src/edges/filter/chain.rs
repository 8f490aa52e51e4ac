//! The filters of one pin in series: noise → glitch → lockout → rate limit.
//!
//! Why this order:
//!
//! * **noise first**: pigpio's noise filter decides from the raw timing of changes (how long the
//!   level was steady before a change); behind another filter it would judge that filter's
//!   output, whose edges are already spaced out, and its settings would no longer mean what
//!   pigpio's documentation says. (pigpio itself runs its glitch filter before its noise filter;
//!   here glitch follows so that each filter keeps its own documented meaning on the raw input.)
//! * **glitch before lockout**: a glitch must be removed before it can start a lockout window;
//!   the other way round, a lone spike would be reported by the lockout at once and only then
//!   judged, too late to hide it.
//! * **lockout next**: it debounces what the earlier filters let through, so it must see the
//!   edges that would otherwise be reported.
//! * **rate limit last**: it is flood protection for what is finally published, so it counts
//!   (and drops) only edges that would really have been reported, and its own reports of a
//!   held-back level are not filtered again.
//!
//! Each stage's output feeds the next one, in `advance` as well: a stage's `advance` may release
//! edges the next stage must see before its own `advance`. The glitch stage reports a change
//! with its own (earlier) time once confirmed, so the later stages are only advanced up to the
//! point the glitch stage has settled ([`Stage::settled`]).

use super::glitch::GlitchFilter;
use super::lockout::LockoutFilter;
use super::noise::NoiseFilter;
use super::rate::RateLimiter;
use super::{bit, Edge, PinSettings, Stage};

/// All the filters of one pin, chained noise → glitch → lockout → rate limit.
#[derive(Debug, Clone)]
pub struct PinFilter {
    pin: u8,
    settings: PinSettings,
    noise: NoiseFilter,
    glitch: GlitchFilter,
    lockout: LockoutFilter,
    rate: RateLimiter,
}

impl PinFilter {
    /// The filters of `pin` per `settings`, with `initial_level` as input and reported level.
    pub fn new(pin: u8, settings: PinSettings, initial_level: u8) -> Self {
        let level = bit(initial_level);
        let f = settings.filter;
        PinFilter {
            pin,
            settings,
            noise: NoiseFilter::new(pin, f.noise_steady_us, f.noise_active_us, level),
            glitch: GlitchFilter::new(pin, f.glitch_us, level),
            lockout: LockoutFilter::new(pin, f.lockout_us, level),
            rate: RateLimiter::new(pin, settings.max_edges_per_s, level),
        }
    }

    /// The GPIO this filter serves.
    pub fn pin(&self) -> u8 {
        self.pin
    }

    /// The settings this filter was built with (or last given a new rate limit).
    pub fn settings(&self) -> PinSettings {
        self.settings
    }

    /// Feeds one input edge of this pin; the edges to report are appended to `out`.
    ///
    /// An edge at `t` also tells that every sample up to `t` has been seen, so it releases what
    /// `advance(t)` would. The edge's `pin` field is not checked: output edges always carry this
    /// filter's pin.
    pub fn push(&mut self, e: Edge, out: &mut Vec<Edge>) {
        let (glitch, lockout, rate) = (&mut self.glitch, &mut self.lockout, &mut self.rate);
        self.noise.push(e, &mut |n| {
            glitch.push(n, &mut |g| {
                lockout.push(g, &mut |l| rate.push(l, &mut |r| out.push(r)));
            });
        });
        self.settle(e.t_us, out);
    }

    /// Declares the input unchanged up to `now_us` inclusive; edges now due go to `out`.
    pub fn advance(&mut self, now_us: u64, out: &mut Vec<Edge>) {
        let (glitch, lockout, rate) = (&mut self.glitch, &mut self.lockout, &mut self.rate);
        self.noise.advance(now_us, &mut |n| {
            glitch.push(n, &mut |g| {
                lockout.push(g, &mut |l| rate.push(l, &mut |r| out.push(r)));
            });
        });
        self.settle(now_us, out);
    }

    /// Advances the later stages as far as the stage before each has settled.
    fn settle(&mut self, now_us: u64, out: &mut Vec<Edge>) {
        let (lockout, rate) = (&mut self.lockout, &mut self.rate);
        let Some(now) = self.noise.settled(now_us) else {
            return;
        };
        self.glitch.advance(now, &mut |g| {
            lockout.push(g, &mut |l| rate.push(l, &mut |r| out.push(r)));
        });
        let Some(now) = self.glitch.settled(now) else {
            return;
        };
        lockout.advance(now, &mut |l| rate.push(l, &mut |r| out.push(r)));
        if let Some(now) = lockout.settled(now) {
            rate.advance(now, &mut |r| out.push(r));
        }
    }

    /// Replaces the rate limiter alone (a full bucket at the new limit); the other filters keep
    /// their state. A change the old limiter was holding back is reported now, into `out`.
    pub fn set_rate_limit(&mut self, max_edges_per_s: u32, out: &mut Vec<Edge>) {
        self.settings.max_edges_per_s = max_edges_per_s;
        self.rate.set_limit(max_edges_per_s, &mut |r| out.push(r));
    }

    /// Edges dropped by the rate limit since the last call.
    pub fn take_rate_limited(&mut self) -> u64 {
        self.rate.take_dropped()
    }

    /// Adds `edges` to the rate-limited count (that of a filter this one replaces).
    pub(crate) fn carry_rate_limited(&mut self, edges: u64) {
        self.rate.carry_dropped(edges);
    }

    /// The last reported level.
    pub fn level(&self) -> u8 {
        self.rate.level()
    }

    /// Whether every input edge is reported unchanged.
    pub fn is_passthrough(&self) -> bool {
        self.noise.is_passthrough()
            && self.glitch.is_passthrough()
            && self.lockout.is_passthrough()
            && self.rate.is_passthrough()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edges::filter::FilterSettings;

    fn settings(glitch_us: u64, lockout_us: u64, steady: u64, active: u64) -> PinSettings {
        PinSettings::unlimited(FilterSettings {
            glitch_us,
            lockout_us,
            noise_steady_us: steady,
            noise_active_us: active,
        })
    }

    fn e(level: u8, t_us: u64) -> Edge {
        Edge {
            pin: 17,
            level,
            t_us,
        }
    }

    #[test]
    fn default_settings_pass_through() {
        let mut f = PinFilter::new(17, PinSettings::default(), 0);
        assert!(f.is_passthrough());
        let mut out = Vec::new();
        for (i, t) in [5u64, 6, 100].into_iter().enumerate() {
            f.push(e(((i + 1) % 2) as u8, t), &mut out);
        }
        f.advance(1000, &mut out);
        assert_eq!(out, vec![e(1, 5), e(0, 6), e(1, 100)]);
        assert_eq!(f.level(), 1);
    }

    #[test]
    fn glitch_then_lockout_keeps_press_time() {
        // A bouncy press at 1000: spikes shorter than 50 µs, then held.
        let mut f = PinFilter::new(17, settings(50, 10_000, 0, 0), 0);
        assert!(!f.is_passthrough());
        let mut out = Vec::new();
        for (lvl, t) in [(1, 1000), (0, 1010), (1, 1020), (0, 1100), (1, 1200)] {
            f.push(e(lvl, t), &mut out);
        }
        // The pulse [1020, 1100) lasted 80 µs: reported at 1020 once confirmed.
        assert_eq!(out, vec![e(1, 1020)]);
        // The drop at 1100 lasted 100 µs too, but falls in the lockout [1020, 11020).
        f.advance(11_019, &mut out);
        assert_eq!(out, vec![e(1, 1020)]);
        f.advance(20_000, &mut out);
        assert_eq!(out, vec![e(1, 1020)]);
        assert_eq!(f.level(), 1);
    }

    #[test]
    fn lockout_waits_for_pending_glitch() {
        let mut f = PinFilter::new(17, settings(10, 100, 0, 0), 0);
        let mut out = Vec::new();
        f.push(e(1, 0), &mut out);
        f.push(e(0, 10), &mut out); // confirms 1@0: reported, lockout [0, 100)
        f.advance(95, &mut out); // confirms 0@10: held back by the lockout
        f.push(e(1, 98), &mut out); // pending until 108
                                    // At 100 the lockout would report 0, but the glitch stage may still report 1@98: the
                                    // lockout must not be advanced past 97 yet.
        f.advance(105, &mut out);
        assert_eq!(out, vec![e(1, 0)]);
        // 1@98 confirmed: at 100 the input is back at the reported level, nothing to report.
        f.advance(108, &mut out);
        f.advance(1000, &mut out);
        assert_eq!(out, vec![e(1, 0)]);
        assert_eq!(f.level(), 1);
    }

    #[test]
    fn rate_limit_counts_only_what_the_lockout_lets_through() {
        let s = PinSettings {
            max_edges_per_s: 1,
            ..settings(0, 100, 0, 0)
        };
        let mut f = PinFilter::new(17, s, 0);
        assert!(!f.is_passthrough());
        let mut out = Vec::new();
        for (lvl, t) in [(1, 0), (0, 50), (1, 150)] {
            f.push(e(lvl, t), &mut out);
        }
        f.advance(1000, &mut out);
        // The lockout reports 1@0, 0@100, 1@200; the one-token bucket lets 1@0 through only, and
        // the two others cancel out: 2 dropped, not the 3 raw changes after the first.
        assert_eq!(out, vec![e(1, 0)]);
        assert_eq!(f.take_rate_limited(), 2);
        assert_eq!(f.level(), 1);
    }

    #[test]
    fn new_rate_limit_keeps_the_other_filters_state() {
        let s = PinSettings {
            max_edges_per_s: 1,
            ..settings(0, 100, 0, 0)
        };
        let mut f = PinFilter::new(17, s, 0);
        let mut out = Vec::new();
        f.push(e(1, 0), &mut out);
        f.push(e(0, 10), &mut out);
        f.advance(100, &mut out);
        // The lockout reported 0@100; the limiter, out of tokens, holds it back.
        assert_eq!(out, vec![e(1, 0)]);
        f.set_rate_limit(5, &mut out);
        assert_eq!(f.settings().max_edges_per_s, 5);
        assert_eq!(out, vec![e(1, 0), e(0, 100)], "the held level is reported");
        // The lockout window that began at 100 is still running: 1@150 waits for 200.
        f.push(e(1, 150), &mut out);
        f.advance(199, &mut out);
        assert_eq!(out.len(), 2);
        f.advance(200, &mut out);
        assert_eq!(out, vec![e(1, 0), e(0, 100), e(1, 200)]);
        assert_eq!(f.take_rate_limited(), 0);
    }
}
