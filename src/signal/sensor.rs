//! A slow binary sensor (motion, window contact, thermostat): rare, clean level changes.

use super::rng::SplitMix64;
use crate::vcd::TraceBuilder;

/// A pin that holds each level for a random time within `hold_ms`, from a seeded PRNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowSensor {
    /// GPIO driven.
    pub pin: u8,
    /// PRNG seed: same seed, same signal.
    pub seed: u64,
    /// Level at time 0.
    pub initial: u8,
    /// Shortest and longest time a level is held (ms).
    pub hold_ms: (u64, u64),
}

impl SlowSensor {
    /// A sensor on `pin` starting low and changing every 300 ms to 3 s.
    pub fn new(pin: u8, seed: u64) -> Self {
        SlowSensor {
            pin,
            seed,
            initial: 0,
            hold_ms: (300, 3_000),
        }
    }

    /// Adds the initial level and every change up to `end_us` to `b`.
    pub fn add_to(&self, b: &mut TraceBuilder, end_us: u64) {
        let mut rng = SplitMix64::new(self.seed);
        let mut level = u8::from(self.initial != 0);
        b.initial(self.pin, level);
        let mut t = 0u64;
        loop {
            let hold_ms = rng.range(self.hold_ms.0, self.hold_ms.1).max(1);
            t = t.saturating_add(hold_ms.saturating_mul(1_000));
            if t > end_us {
                return;
            }
            level ^= 1;
            b.change_us(t, self.pin, level);
        }
    }
}
