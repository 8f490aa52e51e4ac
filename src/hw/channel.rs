//! One DMA channel: which channels may be used, and starting, stopping and inspecting it.
//!
//! `stop` runs on the teardown path, possibly inside a signal handler: it only does volatile
//! register accesses (no allocation, locks or syscalls) and its waits are bounded spins.

use super::barrier::Barrier;
use super::mmio::Mapping;
use super::regs::{dma, place};
use super::HwError;

/// AXI priority of normal transfers: mid-range, as pigpio uses, so the sampler neither starves
/// nor is starved by the GPU's own DMA.
const PRIORITY: u32 = 8;
/// AXI priority while the pacing FIFO signals PANIC (nearly dry): the highest, because a late
/// write then costs sample timing.
const PANIC_PRIORITY: u32 = 15;
/// Most CS reads `stop` spends waiting for outstanding writes after pausing the channel: Linux
/// allows 10000 (`bcm2835_dma_abort`); a write stuck on a peripheral that never answers must
/// not hang a signal handler.
pub const STOP_SPIN_READS: u32 = 10_000;

/// A channel's registers: the `Mapping` in normal use, a raw pointer in the teardown guard.
pub trait ChannelRegs {
    /// Volatile read of the register at `off` in the channel block.
    fn read32(&self, off: u64) -> u32;
    /// Volatile write of the register at `off` in the channel block.
    fn write32(&self, off: u64, v: u32);
    /// Issues `barrier` (a recorder logs it instead, so tests can check where barriers sit).
    fn barrier(&self, barrier: Barrier) {
        barrier.issue();
    }
}

impl ChannelRegs for Mapping {
    fn read32(&self, off: u64) -> u32 {
        Mapping::read32(self, off)
    }

    fn write32(&self, off: u64, v: u32) {
        Mapping::write32(self, off, v)
    }
}

/// Refuses channel `n` when it does not exist, is kept by the firmware, or is lite while the
/// caller needs a full channel.
///
/// `reserved_mask` is the device tree's `brcm,dma-channel-mask`. Its binding says: "bit mask
/// representing the channels not used by the firmware", LSB = channel 0. A SET bit is a
/// channel the VideoCore leaves to Linux's dmaengine pool (e.g. 0x7f35 on Pi ≤ 3: 0, 2, 4, 5,
/// 8–14; 0x01f5 on Pi 4: 0, 2, 4–8); a CLEAR bit is a channel the firmware (GPU) itself uses,
/// and sharing it corrupts both users: those are refused. Linux hands its pool out lowest
/// first (SD, SPI, I2S take the low ones), which is why the defaults are the highest pool
/// channels (14 on Pi ≤ 3, 7 on Pi 4), as pigpio's are; a pool channel is still not
/// guaranteed free, so the caller should also check the channel is idle (`status`) first.
pub fn check_channel(n: u8, reserved_mask: Option<u32>, lite_ok: bool) -> Result<(), HwError> {
    let refuse = |reason: String| HwError::Settings {
        field: "sampler.dma_channel".into(),
        reason,
    };
    if n > dma::MAX_CHANNEL {
        return Err(refuse(format!(
            "{n} is not a DMA channel (0-{})",
            dma::MAX_CHANNEL
        )));
    }
    // Channel 15 sits apart (0xE05000) and is the VideoCore's: Linux's driver never hands it
    // out (BCM2835_DMA_MAX_DMA_CHAN_SUPPORTED is 14 in drivers/dma/bcm2835-dma.c). Only a
    // device tree whose mask names it explicitly lets us take it.
    if n == 15 && !matches!(reserved_mask, Some(m) if m & (1 << 15) != 0) {
        return Err(refuse(
            "channel 15 is the firmware's; it is used only when the device tree's \
             brcm,dma-channel-mask hands it out"
                .into(),
        ));
    }
    if let Some(mask) = reserved_mask {
        if mask & (1 << n) == 0 {
            let free: Vec<String> = (0..=dma::MAX_CHANNEL)
                .filter(|c| mask & (1 << c) != 0)
                .map(|c| c.to_string())
                .collect();
            return Err(refuse(format!(
                "channel {n} is used by the firmware (not in brcm,dma-channel-mask {mask:#06x}); \
                 channels left to Linux: {}",
                free.join(", ")
            )));
        }
    }
    if !lite_ok && dma::is_lite(n) {
        return Err(refuse(format!(
            "channel {n} is a lite channel ({}-{}) and this chain needs a full one",
            dma::FIRST_LITE,
            dma::LAST_LITE
        )));
    }
    Ok(())
}

/// Resets the channel and starts it on the chain at `first_cb_bus`; a `dsb st` orders every
/// earlier store (the control blocks) before the write that starts it.
pub fn start(regs: &impl ChannelRegs, first_cb_bus: u32) {
    regs.write32(dma::CS, dma::CS_RESET);
    // Error bits are write-1-to-clear; a stale one would make the channel look failed.
    regs.write32(dma::DEBUG, dma::DEBUG_ERRORS);
    regs.write32(dma::CONBLK_AD, first_cb_bus);
    // The control blocks were written through another mapping: they must have reached memory
    // before the engine is told to fetch them (Linux: the wmb() in writel before CS ACTIVE).
    regs.barrier(Barrier::BeforeStart);
    regs.write32(
        dma::CS,
        dma::CS_ACTIVE
            | place(PRIORITY, dma::CS_PRIORITY_SHIFT, dma::CS_PRIORITY_WIDTH)
            | place(
                PANIC_PRIORITY,
                dma::CS_PANIC_PRIORITY_SHIFT,
                dma::CS_PRIORITY_WIDTH,
            )
            | dma::CS_WAIT_FOR_OUTSTANDING_WRITES,
    );
}

/// Stops the channel for good, as Linux's `bcm2835_dma_abort` (drivers/dma/bcm2835-dma.c)
/// does: clear ACTIVE (the engine pauses after the current AXI transfer), wait, bounded, for
/// WAITING_FOR_OUTSTANDING_WRITES to clear, then RESET; and forget the chain.
///
/// Never ABORT: it "will load the next CB and attempt to continue" (BCM2835 ARM Peripherals,
/// DMA CS register), so in a ring ACTIVE never clears. Async-signal-safe: register accesses
/// only, and the wait is a bounded spin.
pub fn stop(regs: &impl ChannelRegs) {
    regs.write32(dma::CS, 0);
    for _ in 0..STOP_SPIN_READS {
        if regs.read32(dma::CS) & dma::CS_WAITING_FOR_OUTSTANDING_WRITES == 0 {
            break;
        }
        std::hint::spin_loop();
    }
    regs.write32(dma::CS, dma::CS_RESET);
    regs.write32(dma::CONBLK_AD, 0);
}

/// A snapshot of a channel's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelStatus {
    /// The channel is running.
    pub active: bool,
    /// CS reports an error (details in `debug_errors`).
    pub error: bool,
    /// The DEBUG error bits set.
    pub debug_errors: u32,
    /// Bus address of the CB being executed (0: none).
    pub conblk_ad: u32,
}

/// Why a channel we have not started yet is someone else's, or None if it is free: ACTIVE
/// (running, even paused chains read CONBLK_AD ≠ 0), or a CONBLK_AD that is not ours (another
/// user's chain, e.g. Linux's dmaengine for HDMI audio, pigpio#579). Linux treats CONBLK_AD = 0
/// as idle (`bcm2835_dma_abort`).
pub fn in_use(s: &ChannelStatus) -> Option<String> {
    if s.active {
        Some(format!("ACTIVE, CONBLK_AD {:#010x}", s.conblk_ad))
    } else if s.conblk_ad != 0 {
        Some(format!(
            "holds another chain (CONBLK_AD {:#010x}, paused or not yet started)",
            s.conblk_ad
        ))
    } else {
        None
    }
}

/// Reads the channel's state.
pub fn status(regs: &impl ChannelRegs) -> ChannelStatus {
    let cs = regs.read32(dma::CS);
    ChannelStatus {
        active: cs & dma::CS_ACTIVE != 0,
        error: cs & dma::CS_ERROR != 0,
        debug_errors: regs.read32(dma::DEBUG) & dma::DEBUG_ERRORS,
        conblk_ad: regs.read32(dma::CONBLK_AD),
    }
}

#[cfg(test)]
#[path = "channel_tests.rs"]
mod tests;
