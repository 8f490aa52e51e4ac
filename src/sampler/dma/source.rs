//! Where the DMA sampler's board, memory and clock come from: a real Pi (`/dev/mem`, the
//! firmware mailbox behind `/dev/vcio`, the system clock) or the emulated board (its memory
//! file, its mailbox registers, and in lock-step mode its clock). Everything after this point is
//! the same code for both.

use std::path::Path;
use std::sync::Arc;

use crate::emu::{self, Emulator};
use crate::hw::board::{self, Board};
use crate::hw::clock::{HostClock, SystemClock};
use crate::hw::dmamem::{CpuView, DmaMemory, MailboxMemory};
use crate::hw::mailbox::{Mailbox, MailboxRegisters, MailboxTransport, Vcio};
use crate::hw::mmio::PhysMem;
use crate::hw::orphan::{self, ChainRecord};
use crate::hw::pagemap::PagemapMemory;
use crate::hw::periph::Peripherals;
use crate::hw::regs::mbox;
use crate::hw::HwError;
use crate::sampler::{Backend, SamplerConfig, SamplerError};

/// The kernel's mailbox device.
const VCIO: &str = "/dev/vcio";

/// How DMA memory is allocated on this board.
enum MemorySource {
    /// `/dev/vcio`, falling back to pagemap, reached as `view` says.
    Kernel {
        /// How the CPU reaches pagemap memory.
        view: CpuView,
    },
    /// The emulated board's mailbox registers, with the message buffer at this address.
    BoardMailbox {
        /// Physical address of the message buffer.
        buffer_phys: u64,
    },
}

/// What the sampler keeps alive without using: the in-process emulator, if any.
pub(crate) struct Keepalive {
    _emulator: Option<Emulator>,
}

/// A board ready to be sampled.
pub(super) struct Source {
    /// The board and its facts.
    pub board: Board,
    /// Its physical memory.
    pub mem: PhysMem,
    /// Host time as the sampler sees it.
    pub clock: Arc<dyn HostClock>,
    memory: MemorySource,
    /// Dropped last, after the channel and memory.
    pub keepalive: Keepalive,
}

/// Opens the board `s.backend` names.
/// `pins` are the watched pins: an emulated board's signal that drives none of them is warned
/// about.
pub(super) fn open(s: &SamplerConfig, pins: &[u8]) -> Result<Source, SamplerError> {
    match s.backend {
        Backend::Dma => {
            let board = board::detect(Path::new("/")).map_err(|e| SamplerError::Settings {
                field: "sampler.backend".into(),
                reason: e.to_string(),
            })?;
            Ok(Source {
                board,
                mem: PhysMem::open(&s.mem_device)?,
                clock: Arc::new(SystemClock),
                memory: MemorySource::Kernel { view: s.dma_memory },
                keepalive: Keepalive { _emulator: None },
            })
        }
        Backend::Emulated => {
            let (emulator, path, clock): (Option<Emulator>, _, Arc<dyn HostClock>) =
                match &s.emulated.mem {
                    Some(path) => (None, path.clone(), Arc::new(SystemClock)),
                    None => {
                        let e = emu::EmuOptions::from_config(&s.emulated)
                            .inspect(|o| {
                                if let Some(t) = &o.signal {
                                    crate::sampler::warn_uncovered(&s.emulated.signal, t, pins);
                                }
                            })
                            .and_then(Emulator::start)
                            .map_err(|e| SamplerError::Emulator(e.to_string()))?;
                        let path = e.mem_path().to_path_buf();
                        let clock = e.clock();
                        (Some(e), path, clock)
                    }
                };
            let mem = PhysMem::open(&path)?;
            let header = emu::read_header(&mem)
                .map_err(|e| SamplerError::Emulator(format!("{}: {e}", path.display())))?;
            Ok(Source {
                board: Board::emulated(header.board),
                mem,
                clock,
                memory: MemorySource::BoardMailbox {
                    buffer_phys: header.mailbox_buffer_phys,
                },
                keepalive: Keepalive {
                    _emulator: emulator,
                },
            })
        }
        Backend::Replay | Backend::Cdev => Err(SamplerError::Settings {
            field: "sampler.backend".into(),
            reason: format!("{} is not a DMA backend", s.backend.name()),
        }),
    }
}

impl Source {
    /// The firmware mailbox of this board: `/dev/vcio`, or the emulated board's registers.
    fn mailbox(&self) -> Result<Mailbox<Box<dyn MailboxTransport>>, HwError> {
        let transport: Box<dyn MailboxTransport> = match self.memory {
            MemorySource::BoardMailbox { buffer_phys } => {
                let regs = self.mem.map(self.board.periph_base + mbox::BASE, 0x40)?;
                let buffer = self.mem.map(buffer_phys, 4096)?;
                Box::new(MailboxRegisters::new(
                    regs,
                    buffer,
                    self.board.dram_bus(buffer_phys),
                ))
            }
            MemorySource::Kernel { .. } => Box::new(Vcio::open(Path::new(VCIO))?),
        };
        Ok(Mailbox::new(transport))
    }

    /// Stops the chain a previous run left running (killed without teardown) and gives its
    /// mailbox memory back, as its record in `state_dir` describes. Never fails the start:
    /// what cannot be done is logged.
    pub fn recover_orphan(&self, state_dir: &Path) {
        let Some(r) = orphan::load(state_dir) else {
            return;
        };
        if r.mem_device != self.mem.path() {
            if !r.mem_device.exists() {
                // A board file that is gone (an emulated run): nothing left to stop.
                orphan::forget(state_dir);
            } else {
                tracing::warn!(recorded = %r.mem_device.display(), "a DMA chain record for another memory device: left alone");
            }
            return;
        }
        if orphan::process_alive(r.pid) {
            tracing::warn!(
                pid = r.pid,
                channel = r.channel,
                "another process recorded a running DMA chain in this state_dir and is still alive: left alone"
            );
            return;
        }
        if r.periph_base == self.board.periph_base {
            match Peripherals::map_dma_channel(&self.mem, r.periph_base, r.channel) {
                Ok(regs) => {
                    orphan::stop_orphan(&r, &regs);
                }
                Err(e) => tracing::warn!(error = %e, "cannot map the recorded DMA channel"),
            }
        }
        if let Some(handle) = r.mailbox_handle {
            let freed = self.mailbox().and_then(|mb| {
                // Unlock fails harmlessly if it was never locked; release is what frees.
                let _ = mb.unlock(handle);
                mb.release(handle)
            });
            match freed {
                Ok(()) => tracing::info!(
                    handle,
                    bytes = r.bytes,
                    "released the DMA memory a previous run left allocated"
                ),
                Err(e) => {
                    tracing::warn!(handle, error = %e, "cannot release the DMA memory a previous run left allocated")
                }
            }
        }
        orphan::forget(state_dir);
    }

    /// The record of a chain about to start on `channel` in `memory`.
    pub fn record(&self, channel: u8, memory: &dyn DmaMemory) -> ChainRecord {
        let pages = memory.pages();
        ChainRecord {
            pid: std::process::id(),
            mem_device: self.mem.path().to_path_buf(),
            periph_base: self.board.periph_base,
            channel,
            first_bus: pages.first(),
            bytes: pages.bytes() as u32,
            pages: pages.pages().to_vec(),
            mailbox_handle: memory.mailbox_handle(),
        }
    }

    /// Allocates `bytes` of DMA memory the way this board does it.
    pub fn allocate(
        &self,
        _periph: &Peripherals,
        bytes: usize,
    ) -> Result<Box<dyn DmaMemory>, HwError> {
        match self.memory {
            MemorySource::BoardMailbox { .. } => {
                let m = MailboxMemory::allocate(
                    self.mailbox()?,
                    &self.mem,
                    bytes,
                    self.board.mailbox_flags,
                )?;
                Ok(Box::new(m))
            }
            MemorySource::Kernel {
                view: CpuView::OwnMapping,
            } => own_mapping(Path::new(VCIO), bytes, &self.board),
            MemorySource::Kernel {
                view: CpuView::Uncached,
            } => {
                let mailbox = Vcio::open(Path::new(VCIO)).and_then(|v| {
                    MailboxMemory::allocate(
                        Mailbox::new(v),
                        &self.mem,
                        bytes,
                        self.board.mailbox_flags,
                    )
                });
                match mailbox {
                    Ok(m) => Ok(Box::new(m)),
                    Err(mailbox_err) => {
                        tracing::warn!(error = %mailbox_err, "mailbox DMA memory unavailable: trying pagemap");
                        PagemapMemory::allocate(&self.mem, bytes, &self.board)
                            .map(|m| Box::new(m) as Box<dyn DmaMemory>)
                            // The mailbox error is the useful one: pagemap is a last resort.
                            .map_err(|pagemap_err| {
                                HwError::Device(format!(
                                    "no DMA memory: {mailbox_err}; pagemap fallback: {pagemap_err}"
                                ))
                            })
                    }
                }
            }
        }
    }
}

/// Pagemap memory through the process's own cached mapping (`sampler.dma_memory =
/// "own-mapping"`): refused where `vcio` exists, since that is a Pi's kernel and the setting is
/// for QEMU / cache-coherent models only.
fn own_mapping(vcio: &Path, bytes: usize, board: &Board) -> Result<Box<dyn DmaMemory>, HwError> {
    if vcio.exists() {
        return Err(HwError::Device(format!(
            "sampler.dma_memory = \"own-mapping\" is only for QEMU or other cache-coherent \
             models, never for a Raspberry Pi, and {} exists here: remove the setting",
            vcio.display()
        )));
    }
    PagemapMemory::allocate_own_mapping(bytes, board).map(|m| Box::new(m) as Box<dyn DmaMemory>)
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
