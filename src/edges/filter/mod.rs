//! Per-pin filters: pure state machines over edges and time (no clock is read inside).
//!
//! Every filter sees the edges of one pin, in time order and with alternating levels (the
//! decoder only emits real changes), plus `advance(now_us)` calls meaning "every sample with
//! time ≤ `now_us` has been pushed; the input has not changed since the last edge". It reports
//! edges in time order, with alternating levels, never repeating the last reported level. Its
//! initial reported level is the level of the first sample, given at construction.
//!
//! Time is the signal's own axis (UTC µs of samples) and is treated as continuous: boundaries
//! fall at exact microseconds, never rounded to a sample period, so the output does not depend
//! on the sampler's period nor on how the input is cut into `advance` chunks.
//!
//! * [`noise`]: pigpio's `gpioNoiseFilter`, reproduced from pigpio.c.
//! * [`glitch`]: a change is reported only if the new level lasts `glitch_us`.
//! * [`lockout`]: after a reported edge, changes are held back for `lockout_us`.
//! * [`rate`]: flood protection, at most `max_edges_per_s` edges per second (token bucket).
//! * [`chain`]: [`PinFilter`], the four in series (noise → glitch → lockout → rate limit).
//! * [`bank`]: [`FilterBank`], one [`PinFilter`] per watched pin.
//!
//! An edge whose time is earlier than what a stage already knows (a caller bug) is treated as
//! happening at the latest known time, so outputs stay in time order whatever the input.

pub mod bank;
pub mod chain;
pub mod glitch;
pub mod lockout;
pub mod noise;
pub mod rate;

#[cfg(test)]
mod proptests;

/// Drives a stage with pushes (`Some(level)` at a time) and advances (`None`, time) and returns
/// the reported (level, time) pairs: the one test harness every stage's unit tests share.
#[cfg(test)]
pub(crate) fn drive(
    stage: &mut impl Stage,
    pin: u8,
    steps: &[(Option<u8>, u64)],
) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    for &(lvl, t_us) in steps {
        let mut emit = |x: Edge| out.push((x.level, x.t_us));
        match lvl {
            Some(level) => stage.push(
                Edge {
                    pin,
                    level,
                    t_us,
                    after_gap: false,
                },
                &mut emit,
            ),
            None => stage.advance(t_us, &mut emit),
        }
    }
    out
}
#[cfg(test)]
pub(crate) mod reference;

pub use bank::FilterBank;
pub use chain::PinFilter;
pub use glitch::GlitchFilter;
pub use lockout::LockoutFilter;
pub use noise::NoiseFilter;
pub use rate::RateLimiter;

use super::Edge;

/// Filter times of one input, all in µs; 0 disables a filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterSettings {
    /// A new level is reported only after it has been stable this long.
    pub glitch_us: u64,
    /// After a reported edge, changes are ignored for this long.
    pub lockout_us: u64,
    /// pigpio noise filter: steady time before changes are reported.
    pub noise_steady_us: u64,
    /// pigpio noise filter: how long changes are reported after a steady period.
    pub noise_active_us: u64,
}

impl FilterSettings {
    /// Whether these settings report every input edge unchanged.
    pub fn is_passthrough(&self) -> bool {
        // The noise filter is off when its steady time is 0, whatever the active time (pigpio).
        self.glitch_us == 0 && self.lockout_us == 0 && self.noise_steady_us == 0
    }
}

/// Everything that shapes what one input reports: its filter times and its rate limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinSettings {
    /// The filter times.
    pub filter: FilterSettings,
    /// Flood protection: at most this many reported edges per second; 0 = no limit.
    pub max_edges_per_s: u32,
}

impl PinSettings {
    /// `filter` with no rate limit.
    pub fn unlimited(filter: FilterSettings) -> Self {
        PinSettings {
            filter,
            max_edges_per_s: 0,
        }
    }
}

/// Why a filter could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The pin is not a GPIO of the BCM283x/BCM2711.
    #[error("pin {0} is not a GPIO (0-{max})", max = super::MAX_PIN)]
    PinOutOfRange(u8),
}

/// One filter stage of one pin: edges in, edges out, time passing through `advance`.
///
/// Stages never allocate: reported edges are handed to a callback, so a chain of stages can feed
/// each other without intermediate buffers.
pub trait Stage {
    /// Feeds one input edge (time order, alternating levels); reported edges go to `emit`.
    fn push<F: FnMut(Edge)>(&mut self, e: Edge, emit: &mut F);

    /// Declares the input unchanged up to `now_us` inclusive and releases the edges now due.
    fn advance<F: FnMut(Edge)>(&mut self, now_us: u64, emit: &mut F);

    /// The last reported level.
    fn level(&self) -> u8;

    /// Whether this stage reports its input unchanged.
    fn is_passthrough(&self) -> bool;

    /// The latest time up to which every output edge has been emitted, input being known up to
    /// `now_us`; `None` when nothing is settled yet.
    ///
    /// A downstream stage may only be advanced this far: beyond it, this stage may still emit an
    /// edge stamped earlier than `now_us`.
    fn settled(&self, now_us: u64) -> Option<u64> {
        Some(now_us)
    }
}

/// Normalises a level to 0 or 1 (anything non-zero is high).
fn bit(level: u8) -> u8 {
    u8::from(level != 0)
}
