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
#[path = "chain_tests.rs"]
mod tests;
