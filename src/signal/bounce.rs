//! A mechanical switch that bounces on every press and release.

use super::rng::SplitMix64;
use crate::vcd::TraceBuilder;

/// A switch toggled at random intervals; each transition is followed by a burst of bounces
/// (brief returns to the old level), all drawn from a seeded PRNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BouncingSwitch {
    /// GPIO driven.
    pub pin: u8,
    /// PRNG seed: same seed, same signal.
    pub seed: u64,
    /// Level at rest before the first press (1 with a pull-up).
    pub idle_level: u8,
    /// Shortest and longest quiet time between the end of one burst and the next transition (µs).
    pub interval_us: (u64, u64),
    /// Fewest and most bounces per transition.
    pub bounces: (u64, u64),
    /// Shortest and longest duration of each bounce phase (µs), both the glitch and the gap.
    pub bounce_us: (u64, u64),
}

impl BouncingSwitch {
    /// A pull-up switch on `pin` toggled every 1–2 s, with 3–10 bounces of 20–500 µs.
    pub fn new(pin: u8, seed: u64) -> Self {
        BouncingSwitch {
            pin,
            seed,
            idle_level: 1,
            interval_us: (1_000_000, 2_000_000),
            bounces: (3, 10),
            bounce_us: (20, 500),
        }
    }

    /// Adds the initial level and every change up to `end_us` to `b`.
    pub fn add_to(&self, b: &mut TraceBuilder, end_us: u64) {
        let mut rng = SplitMix64::new(self.seed);
        let mut level = u8::from(self.idle_level != 0);
        b.initial(self.pin, level);
        let mut t = 0u64;
        // Every step advances by at least 1 µs, so the loop always ends.
        let step = |rng: &mut SplitMix64, (lo, hi): (u64, u64)| rng.range(lo, hi).max(1);
        loop {
            t = t.saturating_add(step(&mut rng, self.interval_us));
            if t > end_us {
                return;
            }
            level ^= 1;
            b.change_us(t, self.pin, level);
            for _ in 0..rng.range(self.bounces.0, self.bounces.1) {
                for l in [level ^ 1, level] {
                    t = t.saturating_add(step(&mut rng, self.bounce_us));
                    if t > end_us {
                        return;
                    }
                    b.change_us(t, self.pin, l);
                }
            }
        }
    }
}
