//! Reading the ring of sample blocks the DMA engine fills: which blocks are complete, and how
//! many samples a late consumer lost. Pure bookkeeping, no hardware.

/// What the consumer should do with block `next` given where the engine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// Block `next` is complete: copy it.
    Block,
    /// The engine is still filling block `next`: wait.
    Wait,
}

/// Whether block `next` is complete while the engine executes a control block of `engine`.
///
/// The engine fills blocks in ring order, so every block other than its current one holds a
/// completed lap (which lap is told by the block's tick, see [`lost_samples`]).
pub fn ready(next: u32, engine: u32) -> Ready {
    if next == engine {
        Ready::Wait
    } else {
        Ready::Block
    }
}

/// Samples lost before a block stamped `tick` (µs), when the previous block was stamped
/// `prev_tick` and held `samples` samples `period_us` apart.
///
/// A block normally starts `samples × period` after the previous one, give or take DMA jitter
/// and stalls (µs). Half a block late or more can only mean the ring was lapped (whole blocks
/// overwritten) or the engine restarted: the lost count is the missing time in periods.
pub fn lost_samples(prev_tick: u64, samples: u32, period_us: u32, tick: u64) -> u64 {
    let expected = prev_tick + u64::from(samples) * u64::from(period_us);
    let late = tick.saturating_sub(expected);
    let half_block = u64::from(samples) * u64::from(period_us) / 2;
    if late == 0 || late < half_block.max(1) {
        0
    } else {
        (late + u64::from(period_us) / 2) / u64::from(period_us)
    }
}

/// How much longer than `samples × period_us` a block took (µs), from its own tick and the
/// next block's (whose tick CB runs right after this block's last paced write), when that is
/// beyond jitter and the GPU's occasional ~16 µs stall (2 % of the block, at least 20 µs).
/// `None`: on time, or the two ticks are not from one lap (then the difference is not one
/// block's duration).
pub fn late_us(tick: u32, next_tick: u32, samples: u32, period_us: u32) -> Option<u64> {
    let nominal = u64::from(samples) * u64::from(period_us);
    let took = u64::from(next_tick.wrapping_sub(tick));
    // More than 4× the nominal time is not a slow engine (at most ~3× at 1 µs on a Pi 4) but
    // a tick from another lap.
    let late = took.saturating_sub(nominal);
    (late > (nominal / 50).max(20) && took < 4 * nominal.max(1)).then_some(late)
}

/// Samples lost across a channel restart: the time between the last sample before it and the
/// first after it, in periods, minus the one period that separates two samples anyway.
pub fn lost_across_restart(last_sample_tick: u64, period_us: u32, first_tick: u64) -> u64 {
    let p = u64::from(period_us.max(1));
    let periods = (first_tick.saturating_sub(last_sample_tick) + p / 2) / p;
    periods.saturating_sub(1)
}

/// Samples of a block still to be taken when the engine is on CB `cb_in_block` of it (CB 0 is
/// the tick; sample i is read by CB `1 + 2i` and paced by CB `2 + 2i`).
pub fn samples_left(cb_in_block: u32, samples: u32) -> u32 {
    samples.saturating_sub(cb_in_block.saturating_sub(1) / 2)
}

/// Longest single wait for the engine (µs): a stalled or stopped engine, or a shutdown, is
/// noticed within it.
pub const MAX_WAIT_US: u64 = 50_000;

/// How long to wait (µs) for a block that needs `remaining_us` more: 2 % (at least 20 µs)
/// past its expected end, so one look usually finds it complete and the consumer wakes about
/// once per block; never under 50 µs, never over [`MAX_WAIT_US`].
pub fn block_wait_us(remaining_us: u64) -> u64 {
    (remaining_us + (remaining_us / 50).max(20)).clamp(50, MAX_WAIT_US)
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
