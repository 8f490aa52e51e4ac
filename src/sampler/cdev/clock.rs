//! Event timestamps → UTC µs. Monotonic (and HTE) stamps are mapped with an offset to the wall
//! clock measured when the request starts and re-measured every [`REESTIMATE_NS`], like the DMA
//! sampler's system-timer offset; realtime stamps are UTC already.

use crate::hw::lineplan::EventClock;
use crate::sampler::ticks::UtcMapper;

/// How often the monotonic → UTC offset is measured again: NTP slews the wall clock, so a
/// fixed offset would drift from it.
pub const REESTIMATE_NS: u64 = 10_000_000_000;

/// Maps a request's event timestamps to UTC µs.
#[derive(Debug, Clone)]
pub struct EventTimes {
    clock: EventClock,
    utc: UtcMapper,
    /// Monotonic ns of the last estimate.
    estimated_at_ns: Option<u64>,
}

impl EventTimes {
    /// A mapping for events stamped with `clock`, with no estimate yet.
    pub fn new(clock: EventClock) -> Self {
        EventTimes {
            clock,
            utc: UtcMapper::new(),
            estimated_at_ns: None,
        }
    }

    /// Whether the offset should be (re)measured at monotonic time `mono_now_ns`.
    pub fn due(&self, mono_now_ns: u64) -> bool {
        self.clock != EventClock::Realtime
            && self
                .estimated_at_ns
                .map_or(true, |at| mono_now_ns.saturating_sub(at) >= REESTIMATE_NS)
    }

    /// Records a measurement: the wall clock read `utc_before_us` and `utc_after_us` around a
    /// read of CLOCK_MONOTONIC giving `mono_ns`.
    pub fn estimate(&mut self, utc_before_us: u64, mono_ns: u64, utc_after_us: u64) {
        self.utc
            .estimate(utc_before_us, mono_ns / 1000, utc_after_us);
        self.estimated_at_ns = Some(mono_ns);
    }

    /// UTC µs of an event stamped `timestamp_ns`.
    pub fn utc_us(&self, timestamp_ns: u64) -> u64 {
        match self.clock {
            EventClock::Realtime => timestamp_ns / 1000,
            EventClock::Monotonic | EventClock::Hte => self.utc.utc(timestamp_ns / 1000),
        }
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
