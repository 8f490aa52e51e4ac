//! Starting the chain, and the first tick → UTC estimate that must come before it.
//!
//! The estimate reads CLO between two host-clock reads. Read after the start, a 32-bit timer
//! wrap between the chain's first tick and that read would put the estimate on the far side
//! of the wrap from the ring's ticks: every time 2^32 µs (71.6 min) off. Read before the
//! start, the estimate's CLO is older than every tick the ring will hold, and the ticks are
//! extended forward from it (see [`Estimate::apply`]).

use crate::hw::access::Words;
use crate::hw::channel::{self, ChannelRegs};
use crate::hw::clock::HostClock;
use crate::hw::regs::st;
use crate::sampler::ticks::{TickExtender, UtcMapper};

/// One reading of CLO between two host-clock readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Estimate {
    /// Host UTC µs before the CLO read.
    pub before: u64,
    /// CLO as read.
    pub clo: u32,
    /// Host UTC µs after it.
    pub after: u64,
}

impl Estimate {
    /// Reads CLO from `timer` (the system-timer block) between two readings of `clock`.
    pub fn take(timer: &impl Words, clock: &dyn HostClock) -> Estimate {
        let before = clock.utc_us();
        let clo = timer.read32(st::CLO);
        let after = clock.utc_us();
        Estimate { before, clo, after }
    }

    /// Puts the reading on the ticks' 64-bit timeline and maps it to UTC.
    pub fn apply(self, ticks: &mut TickExtender, utc: &mut UtcMapper) {
        let tick = ticks.extend(self.clo);
        utc.estimate(self.before, tick, self.after);
    }
}

/// Estimates the offset, then starts the channel on the chain at `first_cb_bus`.
pub(super) fn estimate_then_start(
    timer: &impl Words,
    regs: &impl ChannelRegs,
    clock: &dyn HostClock,
    first_cb_bus: u32,
) -> Estimate {
    let e = Estimate::take(timer, clock);
    channel::start(regs, first_cb_bus);
    e
}

#[cfg(test)]
#[path = "start_tests.rs"]
mod tests;
