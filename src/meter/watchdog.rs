//! One input's watchdog (pigpio's `gpioSetWatchdog`, ESPHome's `timeout`): when no edge (after
//! the filters) came for `timeout`, one event; the next comes only after an edge ended that
//! silence.

use crate::edges::Edge;

/// A silence of one input (the `gpio/<pin>/watchdog` message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchdogEvent {
    /// BCM GPIO number.
    pub pin: u8,
    /// UTC µs (signal time) when the silence was noticed.
    pub t_us: u64,
    /// How long the input had been silent then (ms).
    pub silent_ms: u64,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Watchdog {
    pin: u8,
    timeout_us: u64,
    /// Time of the last edge, or when watching started.
    last_us: Option<u64>,
    fired: bool,
}

impl Watchdog {
    /// A watchdog of `pin` firing after `timeout_ms` of silence.
    pub fn new(pin: u8, timeout_ms: u64) -> Self {
        Watchdog {
            pin,
            timeout_us: timeout_ms.saturating_mul(1000),
            last_us: None,
            fired: false,
        }
    }

    /// Takes a new timeout; the silence under way keeps its start.
    pub fn set_timeout(&mut self, timeout_ms: u64) {
        self.timeout_us = timeout_ms.saturating_mul(1000);
    }

    /// An edge of this input ends the silence.
    pub fn push(&mut self, e: &Edge) {
        self.last_us = Some(e.t_us);
        self.fired = false;
    }

    /// The event due at `now_us` (signal time), once per silence.
    pub fn poll(&mut self, now_us: u64) -> Option<WatchdogEvent> {
        let last = *self.last_us.get_or_insert(now_us);
        let silent = now_us.saturating_sub(last);
        if self.fired || self.timeout_us == 0 || silent < self.timeout_us {
            return None;
        }
        self.fired = true;
        Some(WatchdogEvent {
            pin: self.pin,
            t_us: now_us,
            silent_ms: silent / 1000,
        })
    }
}

#[cfg(test)]
#[path = "watchdog_tests.rs"]
mod tests;
