//! DMA channels: register semantics (start, pause, abort, reset, errors) and control-block
//! execution as the TI bits describe it.

use crate::hw::mmio::Mapping;
use crate::hw::regs::{dma, field};

/// Why a channel stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The agent set ABORT.
    Abort,
    /// The agent set RESET.
    Reset,
    /// The agent cleared ACTIVE.
    Cleared,
    /// NEXTCONBK was 0.
    End,
    /// A bus error (the address is reported in DEBUG).
    Error,
    /// Someone else reset it (fault injection).
    Fault,
}

/// One channel's execution state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Channel {
    /// Executing a chain.
    pub running: bool,
    /// Bus address of the control block being executed.
    pub cb: u32,
    /// Emulated time (ps) the channel first started (for the reset fault).
    pub first_start_ps: Option<u64>,
}

/// A decoded control block.
#[derive(Debug, Clone, Copy)]
pub struct ControlBlock {
    /// Transfer information.
    pub ti: u32,
    /// Source bus address.
    pub src: u32,
    /// Destination bus address.
    pub dst: u32,
    /// Length (or 2D shape).
    pub len: u32,
    /// 2D strides.
    pub stride: u32,
    /// Next control block (0: end).
    pub next: u32,
}

impl ControlBlock {
    /// Reads the control block at `off` of `m`.
    pub fn read(m: &Mapping, off: u64) -> ControlBlock {
        ControlBlock {
            ti: m.read32(off + 4 * dma::CB_TI as u64),
            src: m.read32(off + 4 * dma::CB_SOURCE_AD as u64),
            dst: m.read32(off + 4 * dma::CB_DEST_AD as u64),
            len: m.read32(off + 4 * dma::CB_TXFR_LEN as u64),
            stride: m.read32(off + 4 * dma::CB_STRIDE as u64),
            next: m.read32(off + 4 * dma::CB_NEXTCONBK as u64),
        }
    }

    /// PERMAP of the DREQ that gates this block, if any.
    pub fn dreq(&self) -> Option<u32> {
        let gated = self.ti & (dma::TI_SRC_DREQ | dma::TI_DEST_DREQ) != 0;
        let permap = field(self.ti, dma::TI_PERMAP_SHIFT, dma::TI_PERMAP_WIDTH);
        (gated && permap != dma::PERMAP_NONE).then_some(permap)
    }

    /// The word transfers of this block: (source, destination) bus addresses, in order.
    /// `lite` channels have no 2D mode: the caller turns `Err` into a bus error.
    pub fn words(&self, lite: bool) -> Result<Vec<(u32, u32)>, &'static str> {
        let (x, y, sstride, dstride) = if self.ti & dma::TI_TDMODE != 0 {
            if lite {
                return Err("TDMODE on a lite channel");
            }
            let s = (self.stride & 0xFFFF) as u16 as i16 as i64;
            let d = (self.stride >> 16) as u16 as i16 as i64;
            (self.len & 0xFFFF, ((self.len >> 16) & 0x3FFF) + 1, s, d)
        } else {
            (self.len, 1, 0, 0)
        };
        if lite && x > dma::LITE_MAX_TXFR {
            return Err("TXFR_LEN beyond 65535 on a lite channel");
        }
        if x % 4 != 0 || u64::from(x) * u64::from(y) > 1 << 20 {
            return Err("transfer length not a whole number of words, or too long");
        }
        let (sinc, dinc) = (
            self.ti & dma::TI_SRC_INC != 0,
            self.ti & dma::TI_DEST_INC != 0,
        );
        let mut out = Vec::with_capacity((x / 4 * y) as usize);
        let (mut s, mut d) = (i64::from(self.src), i64::from(self.dst));
        for _ in 0..y {
            for _ in 0..x / 4 {
                out.push((s as u32, d as u32));
                if sinc {
                    s += 4;
                }
                if dinc {
                    d += 4;
                }
            }
            s += sstride;
            d += dstride;
        }
        Ok(out)
    }
}

/// What the agent asked of a channel through CS, seen by the emulator.
pub fn requested_stop(cs: u32) -> Option<StopReason> {
    if cs & dma::CS_RESET != 0 {
        Some(StopReason::Reset)
    } else if cs & dma::CS_ABORT != 0 {
        Some(StopReason::Abort)
    } else if cs & dma::CS_ACTIVE == 0 {
        Some(StopReason::Cleared)
    } else {
        None
    }
}
