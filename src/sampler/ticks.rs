//! From the system timer's 32-bit microsecond ticks to UTC microseconds.
//!
//! The DMA engine stamps each block with one CLO read. CLO wraps every 2^32 µs (~71.6 min), so
//! ticks are extended to 64 bits; and CLO counts from boot, so an offset to CLOCK_REALTIME,
//! re-estimated now and then, turns them into UTC.

/// Extends wrapping u32 ticks to a monotonic u64, given ticks less than 2^31 apart.
#[derive(Debug, Clone, Default)]
pub struct TickExtender {
    last: Option<u64>,
}

impl TickExtender {
    /// A fresh extender: the first tick is taken as is.
    pub fn new() -> Self {
        TickExtender::default()
    }

    /// The 64-bit value of `tick`, the nearest one to the previous tick (forward or back).
    pub fn extend(&mut self, tick: u32) -> u64 {
        let v = match self.last {
            None => u64::from(tick),
            Some(last) => {
                let delta = tick.wrapping_sub(last as u32) as i32;
                last.wrapping_add_signed(i64::from(delta))
            }
        };
        self.last = Some(v);
        v
    }

    /// The last extended tick.
    pub fn last(&self) -> Option<u64> {
        self.last
    }
}

/// Maps extended ticks to UTC µs with an offset measured against the host clock.
#[derive(Debug, Clone, Default)]
pub struct UtcMapper {
    offset: Option<i128>,
}

impl UtcMapper {
    /// A mapper with no estimate yet.
    pub fn new() -> Self {
        UtcMapper::default()
    }

    /// Records an estimate: the host read `utc_before` and `utc_after` around reading `tick`.
    /// The midpoint halves the error of a slow register read.
    pub fn estimate(&mut self, utc_before: u64, tick: u64, utc_after: u64) {
        let mid = (i128::from(utc_before) + i128::from(utc_after)) / 2;
        self.offset = Some(mid - i128::from(tick));
    }

    /// Whether an estimate exists.
    pub fn is_set(&self) -> bool {
        self.offset.is_some()
    }

    /// UTC µs of `tick` (0 before any estimate, clamped at 0).
    pub fn utc(&self, tick: u64) -> u64 {
        let v = i128::from(tick) + self.offset.unwrap_or(0);
        u64::try_from(v.max(0)).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
#[path = "ticks_tests.rs"]
mod tests;
