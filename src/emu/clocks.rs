//! Host clocks for a sampler on the emulated board. In lock-step mode the sampler's waits are
//! what moves emulated time; both clocks carry the consumer-stall fault (the sampler is late).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::hw::clock::{HostClock, SystemClock};

use super::machine::PS_PER_US;

/// Longest a lock-step wait blocks (wall time) before giving up on a stuck emulator.
const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// Time granted to the emulator and time it reached, both in emulated ps.
#[derive(Debug, Default)]
struct Times {
    granted: u64,
    reached: u64,
}

/// The lock-step clock: UTC is emulated, and waiting grants emulated time.
#[derive(Debug)]
pub struct Lockstep {
    start_utc_us: u64,
    times: Mutex<Times>,
    changed: Condvar,
    /// (after µs, stall µs) of the consumer-stall fault.
    stall: (u64, u64),
    stalled: AtomicBool,
}

impl Lockstep {
    /// A clock whose emulated time 0 is UTC `start_utc_us`.
    pub fn new(start_utc_us: u64, stall: (u64, u64)) -> Self {
        Lockstep {
            start_utc_us,
            times: Mutex::new(Times::default()),
            changed: Condvar::new(),
            stall,
            stalled: AtomicBool::new(false),
        }
    }

    /// How far the emulator may run.
    pub fn granted_ps(&self) -> u64 {
        self.times.lock().map(|t| t.granted).unwrap_or(0)
    }

    /// The emulator reached `ps`.
    pub fn reached(&self, ps: u64) {
        if let Ok(mut t) = self.times.lock() {
            t.reached = t.reached.max(ps);
        }
        self.changed.notify_all();
    }

    /// The emulator waits (bounded) for more time than `reached`.
    pub fn wait_for_grant(&self, reached: u64, limit: Duration) {
        if let Ok(t) = self.times.lock() {
            let _ = self
                .changed
                .wait_timeout_while(t, limit, |t| t.granted <= reached);
        }
    }
}

impl HostClock for Lockstep {
    fn utc_us(&self) -> u64 {
        let reached = self.times.lock().map(|t| t.reached).unwrap_or(0);
        self.start_utc_us + reached.min(u64::MAX / 2) / PS_PER_US
    }

    fn wait(&self, d: Duration) {
        let mut ps = d.as_nanos() as u64 * 1000;
        let Ok(mut t) = self.times.lock() else { return };
        let (after, stall) = self.stall;
        if stall > 0
            && t.granted + ps >= after * PS_PER_US
            && !self.stalled.swap(true, Ordering::SeqCst)
        {
            ps += stall * PS_PER_US;
        }
        t.granted += ps;
        let goal = t.granted;
        self.changed.notify_all();
        let _ = self
            .changed
            .wait_timeout_while(t, WAIT_LIMIT, |t| t.reached < goal);
    }
}

/// The system clock, plus the consumer-stall fault.
#[derive(Debug)]
pub struct RealtimeClock {
    start: Instant,
    stall: (u64, u64),
    stalled: AtomicBool,
}

impl RealtimeClock {
    /// A system clock that stalls the consumer once as `stall` (after µs, for µs) says.
    pub fn new(stall: (u64, u64)) -> Self {
        RealtimeClock {
            start: Instant::now(),
            stall,
            stalled: AtomicBool::new(false),
        }
    }
}

impl HostClock for RealtimeClock {
    fn utc_us(&self) -> u64 {
        SystemClock.utc_us()
    }

    fn wait(&self, d: Duration) {
        let (after, stall) = self.stall;
        let late = stall > 0
            && self.start.elapsed() >= Duration::from_micros(after)
            && !self.stalled.swap(true, Ordering::SeqCst);
        std::thread::sleep(if late {
            d + Duration::from_micros(stall)
        } else {
            d
        });
    }
}
