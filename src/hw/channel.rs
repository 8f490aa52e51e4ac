//! One DMA channel: refuse the wrong ones, start a chain, read where it is, stop it.
//!
//! Register access goes through [`ChannelRegs`] so the teardown guard can run the very same stop
//! sequence from a signal handler, on a raw address, without any Rust reference in reach.

use super::mmio::Mapping;
use super::regs::{dma, place};
use super::HwError;

/// Read and write access to one channel's registers (offsets from `regs::dma`).
pub trait ChannelRegs {
    /// Volatile read of the register at `off`.
    fn read32(&self, off: u64) -> u32;
    /// Volatile write of the register at `off`.
    fn write32(&self, off: u64, v: u32);
}

impl ChannelRegs for Mapping {
    fn read32(&self, off: u64) -> u32 {
        Mapping::read32(self, off)
    }

    fn write32(&self, off: u64, v: u32) {
        Mapping::write32(self, off, v)
    }
}

/// AXI priority of our writes: high enough that GPU traffic does not starve the sampler.
const PRIORITY: u32 = 8;
/// AXI panic priority, used when the pacing FIFO signals panic.
const PANIC_PRIORITY: u32 = 15;
/// Reads of CS while waiting for an abort to take effect: bounded, and cheap enough for a signal
/// handler (the hardware needs well under a microsecond; the emulator a poll of its loop).
const ABORT_SPINS: u32 = 200_000;

/// Refuses channel `n` if it does not exist, if the kernel uses it, or if it is a lite channel
/// and `lite_ok` is false.
///
/// `reserved_mask` is the device tree's `brcm,dma-channel-mask`: a set bit marks a channel the
/// kernel's DMA engine driver hands out to its own users (SD card, SPI, audio...), so a set bit
/// means "taken" for us. The GPU's channels are already absent from that mask.
pub fn check_channel(n: u8, reserved_mask: Option<u32>, lite_ok: bool) -> Result<(), HwError> {
    let refuse = |reason: String| HwError::Settings {
        field: "sampler.dma_channel".into(),
        reason,
    };
    if n > dma::MAX_CHANNEL {
        return Err(refuse(format!("{n} is not a DMA channel (0-15)")));
    }
    if let Some(mask) = reserved_mask {
        if mask & (1 << n) != 0 {
            let free: Vec<String> = (0..=dma::MAX_CHANNEL)
                .filter(|c| mask & (1 << c) == 0 && (lite_ok || !dma::is_lite(*c)))
                .map(|c| c.to_string())
                .collect();
            return Err(refuse(format!(
                "channel {n} is used by the kernel (brcm,dma-channel-mask {mask:#06x}); \
                 channels it leaves free: {}",
                free.join(", ")
            )));
        }
    }
    if dma::is_lite(n) && !lite_ok {
        return Err(refuse(format!(
            "channel {n} is a lite channel (7-14) and this chain needs a full one (0-6 or 15)"
        )));
    }
    Ok(())
}

/// CS value that runs a channel: active, with our priorities, waiting for writes to land so a
/// sample is in memory before the block's next control block reads the timer.
pub const fn run_cs() -> u32 {
    dma::CS_ACTIVE
        | place(PRIORITY, dma::CS_PRIORITY_SHIFT, dma::CS_PRIORITY_WIDTH)
        | place(
            PANIC_PRIORITY,
            dma::CS_PANIC_PRIORITY_SHIFT,
            dma::CS_PRIORITY_WIDTH,
        )
        | dma::CS_WAIT_FOR_OUTSTANDING_WRITES
}

/// Starts the chain whose first control block is at bus address `first_cb_bus`.
pub fn start(regs: &impl ChannelRegs, first_cb_bus: u32) {
    regs.write32(dma::CS, dma::CS_RESET);
    regs.write32(dma::DEBUG, dma::DEBUG_ERRORS);
    regs.write32(dma::CS, dma::CS_END | dma::CS_INT);
    regs.write32(dma::CONBLK_AD, first_cb_bus);
    regs.write32(dma::CS, run_cs());
}

/// Stops the channel: abort, wait (bounded) for it to go idle, clear, reset, forget the chain.
/// Async-signal-safe: volatile accesses and a bounded spin only.
pub fn stop(regs: &impl ChannelRegs) {
    regs.write32(dma::CS, dma::CS_ABORT);
    for _ in 0..ABORT_SPINS {
        if regs.read32(dma::CS) & dma::CS_ACTIVE == 0 {
            break;
        }
        std::hint::spin_loop();
    }
    regs.write32(dma::CS, 0);
    regs.write32(dma::CS, dma::CS_RESET);
    regs.write32(dma::CONBLK_AD, 0);
}

/// What a channel's registers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelStatus {
    /// CS.ACTIVE.
    pub active: bool,
    /// CS.ERROR.
    pub error: bool,
    /// DEBUG error bits.
    pub debug_errors: u32,
    /// The control block being executed (0: none).
    pub conblk_ad: u32,
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
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Registers that remember every write, in order.
    #[derive(Default)]
    struct Recorder {
        regs: RefCell<[u32; 9]>,
        writes: RefCell<Vec<(u64, u32)>>,
    }
    impl ChannelRegs for Recorder {
        fn read32(&self, off: u64) -> u32 {
            self.regs.borrow()[off as usize / 4]
        }
        fn write32(&self, off: u64, v: u32) {
            self.regs.borrow_mut()[off as usize / 4] = v;
            self.writes.borrow_mut().push((off, v));
        }
    }

    #[test]
    fn start_clears_errors_then_loads_the_chain_then_runs() {
        let r = Recorder::default();
        start(&r, 0xC010_0000);
        let w = r.writes.borrow().clone();
        assert_eq!(w[0], (dma::CS, dma::CS_RESET));
        assert_eq!(w[1], (dma::DEBUG, 0b111));
        assert!(w.contains(&(dma::CONBLK_AD, 0xC010_0000)));
        let (last_off, last) = *w.last().unwrap();
        assert_eq!(last_off, dma::CS);
        assert_eq!(last, 0x1000_0001 | (8 << 16) | (15 << 20));
    }

    #[test]
    fn stop_is_abort_then_zero_then_reset_then_no_chain() {
        let r = Recorder::default();
        start(&r, 0xC010_0000);
        r.writes.borrow_mut().clear();
        stop(&r);
        assert_eq!(
            *r.writes.borrow(),
            vec![
                (dma::CS, dma::CS_ABORT),
                (dma::CS, 0),
                (dma::CS, dma::CS_RESET),
                (dma::CONBLK_AD, 0)
            ]
        );
        let s = status(&r);
        assert!(!s.active && s.conblk_ad == 0);
    }

    #[test]
    fn channels_are_checked() {
        assert!(check_channel(16, None, true).is_err());
        assert!(check_channel(7, None, true).is_ok());
        let e = check_channel(9, None, false).unwrap_err().to_string();
        assert!(
            e.starts_with("sampler.dma_channel: ") && e.contains("lite"),
            "{e}"
        );
        // A mask of 0x7035 gives channels 0, 2, 4, 5, 12, 13 and 14 to the kernel.
        let e = check_channel(5, Some(0x7035), true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("used by the kernel") && e.contains("1, 3, 6, 7"),
            "{e}"
        );
        assert!(check_channel(7, Some(0x7035), true).is_ok());
    }
}
