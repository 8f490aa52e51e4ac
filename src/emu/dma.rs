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

/// What a CS value written by the agent asks of a running channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsRequest {
    /// RESET: the channel stops and forgets its chain.
    Reset,
    /// ABORT: the current CB is abandoned and the next one loaded; the channel goes on ("will
    /// load the next CB and attempt to continue", datasheet, CS.ABORT). We take the hostile
    /// reading that ACTIVE stays set whatever the same write says: a stop must never rely on it.
    Abort,
    /// ACTIVE cleared: the channel pauses, keeping CONBLK_AD, and resumes when it is set again.
    Pause,
    /// Nothing new.
    Run,
}

/// What the CS value `cs` asks of a running channel.
pub fn cs_request(cs: u32) -> CsRequest {
    if cs & dma::CS_RESET != 0 {
        CsRequest::Reset
    } else if cs & dma::CS_ABORT != 0 {
        CsRequest::Abort
    } else if cs & dma::CS_ACTIVE == 0 {
        CsRequest::Pause
    } else {
        CsRequest::Run
    }
}

/// One channel answered synchronously, register access by register access, running a ring of
/// `len` control blocks: every CS read lets the engine finish one CB. For tests of register
/// sequences (the stop), whose intermediate states the polling emulator never sees.
#[cfg(test)]
#[derive(Debug)]
pub struct RegisterModel {
    state: std::cell::RefCell<ModelState>,
}

#[cfg(test)]
#[derive(Debug, Default)]
struct ModelState {
    first: u32,
    len: u32,
    /// Index of the CB being executed; None: no chain (CONBLK_AD 0).
    cb: Option<u32>,
    active: bool,
    /// CS reads for which AXI writes stay outstanding after a pause.
    outstanding: u32,
    cs_reads: u32,
    violations: Vec<String>,
}

#[cfg(test)]
impl RegisterModel {
    /// A channel already running a ring of `len` CBs starting at bus address `first`.
    pub fn running_ring(first: u32, len: u32) -> RegisterModel {
        RegisterModel {
            state: std::cell::RefCell::new(ModelState {
                first,
                len,
                cb: Some(0),
                active: true,
                ..ModelState::default()
            }),
        }
    }

    /// Register sequences the hardware would have suffered from.
    pub fn violations(&self) -> Vec<String> {
        self.state.borrow().violations.clone()
    }

    /// CS reads so far.
    pub fn cs_reads(&self) -> u32 {
        self.state.borrow().cs_reads
    }
}

#[cfg(test)]
impl crate::hw::channel::ChannelRegs for RegisterModel {
    fn read32(&self, off: u64) -> u32 {
        let mut s = self.state.borrow_mut();
        match off {
            dma::CS => {
                s.cs_reads += 1;
                if s.active {
                    // Time passes: the engine finishes a CB and loads the next.
                    s.cb = s.cb.map(|i| (i + 1) % s.len);
                }
                let waiting = if s.outstanding > 0 {
                    s.outstanding -= 1;
                    dma::CS_WAITING_FOR_OUTSTANDING_WRITES
                } else {
                    0
                };
                let paused = if !s.active && s.cb.is_some() {
                    dma::CS_PAUSED
                } else {
                    0
                };
                u32::from(s.active) | paused | waiting
            }
            dma::CONBLK_AD => s.cb.map_or(0, |i| s.first + i * dma::CB_BYTES as u32),
            _ => 0,
        }
    }

    fn write32(&self, off: u64, v: u32) {
        let mut s = self.state.borrow_mut();
        match off {
            dma::CS => match cs_request(v) {
                CsRequest::Reset => {
                    if s.active {
                        s.violations
                            .push("RESET while the engine runs (not paused)".into());
                    }
                    if s.outstanding > 0 {
                        s.violations
                            .push("RESET with AXI writes outstanding".into());
                    }
                    *s = ModelState {
                        cs_reads: s.cs_reads,
                        violations: std::mem::take(&mut s.violations),
                        ..ModelState::default()
                    };
                }
                CsRequest::Abort if s.active => s.cb = s.cb.map(|i| (i + 1) % s.len),
                CsRequest::Abort => {}
                CsRequest::Pause => {
                    if s.active {
                        // The CB in flight still has a write out on the bus.
                        s.outstanding = 2;
                    }
                    s.active = false;
                }
                CsRequest::Run => s.active = s.cb.is_some(),
            },
            dma::CONBLK_AD => {
                if s.active {
                    s.violations.push("CONBLK_AD written while running".into());
                }
                s.cb = (v != 0).then(|| v.wrapping_sub(s.first) / dma::CB_BYTES as u32);
            }
            _ => {}
        }
    }
}
