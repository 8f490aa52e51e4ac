//! The host's clocks as the sampler sees them: UTC now, and a way to wait.
//!
//! On a Pi these are CLOCK_REALTIME and a sleep. The emulated board in lock-step mode supplies its
//! own, so that emulated time only moves when the consumer waits and tests are deterministic.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// UTC time and waiting, as the DMA sampler needs them.
pub trait HostClock: Send + Sync {
    /// Microseconds since the Unix epoch, UTC.
    fn utc_us(&self) -> u64;
    /// Lets `d` pass (the sampler waits for the engine to fill blocks).
    fn wait(&self, d: Duration);
    /// Lets `d` pass as exactly as this clock can (the loopback selftest times its pulses
    /// with it): a plain wait where waiting is already exact (the lock-step clock).
    fn wait_exact(&self, d: Duration) {
        self.wait(d);
    }
}

/// The last stretch of an exact wait that is spun, not slept: a sleep overshoots by tens of µs.
const SPIN: Duration = Duration::from_micros(200);

/// The operating system's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl HostClock for SystemClock {
    fn utc_us(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    }

    fn wait(&self, d: Duration) {
        std::thread::sleep(d);
    }

    fn wait_exact(&self, d: Duration) {
        let end = Instant::now() + d;
        if d > SPIN {
            std::thread::sleep(d - SPIN);
        }
        while Instant::now() < end {
            std::hint::spin_loop();
        }
    }
}

/// CLOCK_MONOTONIC now, in ns: the clock GPIO edge events are stamped with by default.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}
