//! Reconnect delays: exponential growth with "decorrelated jitter" (each delay is drawn between
//! the minimum and three times the previous delay, capped), so a fleet that lost its broker at the
//! same moment does not reconnect in lockstep. Pure: the random source is passed in.

use std::time::Duration;

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

    /// Back to the first, shortest delays (after a successful connection).
    pub fn reset(&mut self) {
        self.prev = self.min;
    }
}

/// A random u64 from the OS; falls back to the clock if the OS source fails, since jitter only
/// needs to differ between devices, not to be unpredictable.
pub fn os_random() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }

    #[test]
    fn stays_within_bounds() {
        let mut b = Backoff::new(100, 5_000);
        let mut x: u64 = 0x1234_5678;
        for _ in 0..10_000 {
            // xorshift: deterministic but well spread.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = ms(b.next_delay(x));
            assert!((100..=5_000).contains(&d), "{d}");
        }
    }

    #[test]
    fn grows_exponentially_with_max_randomness() {
        let mut b = Backoff::new(100, 10_000);
        let seq: Vec<u64> = (0..6).map(|_| ms(b.next_delay(u64::MAX))).collect();
        assert_eq!(seq, vec![300, 900, 2_700, 8_100, 10_000, 10_000]);
    }

    #[test]
    fn zero_random_gives_minimum() {
        let mut b = Backoff::new(250, 30_000);
        for _ in 0..5 {
            assert_eq!(ms(b.next_delay(0)), 250);
        }
    }

    #[test]
    fn reset_returns_to_short_delays() {
        let mut b = Backoff::new(100, 10_000);
        for _ in 0..10 {
            b.next_delay(u64::MAX);
        }
        b.reset();
        assert!(ms(b.next_delay(u64::MAX)) <= 300);
    }

    #[test]
    fn degenerate_config_is_clamped() {
        let mut b = Backoff::new(0, 0);
        assert_eq!(b.next_delay(12345), FLOOR);
        let mut b = Backoff::new(500, 100);
        assert_eq!(ms(b.next_delay(7)), 500);
    }

    #[test]
    fn os_random_varies() {
        let a: Vec<u64> = (0..4).map(|_| os_random()).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]));
    }
}
