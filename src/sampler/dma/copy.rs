//! Copying one completed block out of DMA memory: its tick, its level words, its tick again and
//! the engine's position, each an aligned 32-bit load (see `hw::access`: a `memcpy` here
//! raises SIGBUS on a 64-bit Pi OS whenever a block does not start 16-byte aligned).

use crate::hw::access::{read_words, Words};
use crate::hw::barrier::Barrier;
use crate::hw::chain::ChainLayout;
use crate::hw::channel::{self, ChannelRegs};

/// What one copy saw around the level words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Copied {
    /// The block's tick before the copy.
    pub tick_before: u32,
    /// The block's tick after the copy: differs if the engine rewrote the block meanwhile.
    pub tick_after: u32,
    /// CONBLK_AD after the copy: the engine must not be inside the block just copied.
    pub conblk_after: u32,
}

/// Copies block `b`'s level words into `levels` (resized to the block) from `mem`, the chain's
/// DMA memory, reading the engine's position from `regs` afterwards.
pub(super) fn copy_block(
    mem: &impl Words,
    regs: &impl ChannelRegs,
    layout: &ChainLayout,
    b: u32,
    levels: &mut Vec<u32>,
) -> Copied {
    // The caller read CONBLK_AD to learn that block b is complete: none of the block's loads
    // may be performed before that one (dmb osh: the engine is outside the inner domain).
    mem.barrier(Barrier::DmaRead);
    let tick_before = mem.read32(layout.ticks_offset(b));
    levels.resize(layout.level_words_per_block(), 0);
    read_words(mem, layout.levels_offset(b), levels);
    // And the checks that the engine left the block alone must read after the copy.
    mem.barrier(Barrier::DmaRead);
    let tick_after = mem.read32(layout.ticks_offset(b));
    let conblk_after = channel::status(regs).conblk_ad;
    Copied {
        tick_before,
        tick_after,
        conblk_after,
    }
}

#[cfg(test)]
#[path = "copy_tests.rs"]
mod tests;
