//! The stall watchdog: a paced chain whose DREQ never comes (the pacer's clock reprogrammed by
//! audio, say) waits forever with ACTIVE still set, so a healthy-looking channel can be dead.
//! Progress is CONBLK_AD or the current block's tick word moving; neither moving for
//! [`STALL_BLOCKS`] block times (at least [`MIN_STALL_US`]) is a stall. Pure: host time in.

/// Block times without progress that make a stall.
pub const STALL_BLOCKS: u64 = 4;
/// Shortest stall limit (µs): far above the GPU's reported ~16 µs DMA pauses and any jitter.
pub const MIN_STALL_US: u64 = 10_000;

/// Watches the engine's position for progress.
#[derive(Debug, Clone)]
pub(super) struct Watchdog {
    limit_us: u64,
    seen: Option<(u32, u32)>,
    since_us: u64,
}

impl Watchdog {
    /// A watchdog for blocks of `block_us` µs, armed at host time `now_us`.
    pub fn new(block_us: u64, now_us: u64) -> Watchdog {
        Watchdog {
            limit_us: (STALL_BLOCKS * block_us).max(MIN_STALL_US),
            seen: None,
            since_us: now_us,
        }
    }

    /// How long without progress counts as a stall (µs).
    pub fn limit_us(&self) -> u64 {
        self.limit_us
    }

    /// Starts over at `now_us` (after a (re)start of the chain).
    pub fn rearm(&mut self, now_us: u64) {
        self.seen = None;
        self.since_us = now_us;
    }

    /// Records the engine at CB `conblk` with its current block's tick word `tick`, at host
    /// time `now_us`; returns the µs without progress if that makes a stall.
    pub fn observe(&mut self, conblk: u32, tick: u32, now_us: u64) -> Option<u64> {
        if self.seen != Some((conblk, tick)) {
            self.seen = Some((conblk, tick));
            self.since_us = now_us;
            return None;
        }
        let still = now_us.saturating_sub(self.since_us);
        (still >= self.limit_us).then_some(still)
    }
}

#[cfg(test)]
#[path = "watchdog_tests.rs"]
mod tests;
