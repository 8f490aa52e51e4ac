//! Reconnect delays: exponential growth with "decorrelated jitter" (each delay is drawn between
//! the minimum and three times the previous delay, capped), so a fleet that lost its broker at the
//! same moment does not reconnect in lockstep. Pure: the random source is passed in.

use std::time::Duration;

/// How long a connection must stay up before the delays start over from the minimum (AWS IoT
/// device SDKs use about 30 s): a broker that closes right after CONNACK (a client id taken
/// over, a packet it refuses) must not get a reconnect storm at the minimum delay.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);

/// Lowest allowed minimum delay: a 0 ms minimum would turn reconnecting into a busy loop.
const FLOOR: Duration = Duration::from_millis(10);

/// Reconnect delay generator; `reset` after a successful connection.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    prev: Duration,
}

impl Backoff {
    /// Delays between `min_ms` and `max_ms` (a minimum below 10 ms is raised to 10 ms; a maximum
    /// below the minimum is raised to the minimum).
    pub fn new(min_ms: u64, max_ms: u64) -> Self {
        let min = Duration::from_millis(min_ms).max(FLOOR);
        let max = Duration::from_millis(max_ms).max(min);
        Backoff {
            min,
            max,
            prev: min,
        }
    }

    /// The delay before the next attempt, given a uniformly random `random`.
    pub fn next_delay(&mut self, random: u64) -> Duration {
        let lo = self.min.as_millis() as u64;
        let hi = (self.prev.as_millis() as u64)
            .saturating_mul(3)
            .min(self.max.as_millis() as u64)
            .max(lo);
        // Multiply-shift maps the u64 onto [lo, hi] uniformly (no modulo bias); u64::MAX → hi.
        let span = u128::from(hi - lo + 1);
        let ms = lo + ((u128::from(random) * span) >> 64) as u64;
        let delay = Duration::from_millis(ms).min(self.max);
        self.prev = delay;
        delay
    }

    /// Back to the first, shortest delays.
    pub fn reset(&mut self) {
        self.prev = self.min;
    }

    /// A connection that was accepted ended after `up_for`: the delays start over only if it
    /// stayed up [`STABLE_AFTER`]; a shorter one keeps growing them.
    pub fn connection_ended(&mut self, up_for: Duration) {
        if up_for >= STABLE_AFTER {
            self.reset();
        }
    }
}

#[cfg(test)]
#[path = "backoff_tests.rs"]
mod tests;
