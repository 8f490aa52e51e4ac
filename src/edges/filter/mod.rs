//! Per-pin filters: pure state machines over edges and time (no clock is read inside).

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
