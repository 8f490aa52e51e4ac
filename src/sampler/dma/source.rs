//! Where the DMA sampler's board, memory and clock come from: a real Pi (`/dev/mem`, the
//! firmware mailbox behind `/dev/vcio`, the system clock) or the emulated board (its memory
//! file, its mailbox registers, and in lock-step mode its clock). Everything after this point is
//! the same code for both.

use std::path::Path;
use std::sync::Arc;

use crate::config::{Backend, Config};
use crate::emu::{self, Emulator};
use crate::hw::board::{self, Board};
use crate::hw::clock::{HostClock, SystemClock};
use crate::hw::dmamem::{DmaMemory, MailboxMemory, PagemapMemory};
use crate::hw::mailbox::{Mailbox, MailboxRegisters, Vcio};
use crate::hw::mmio::PhysMem;
use crate::hw::periph::Peripherals;
use crate::hw::regs::mbox;
use crate::hw::HwError;
use crate::sampler::SamplerError;

/// The kernel's mailbox device.
const VCIO: &str = "/dev/vcio";

/// How DMA memory is allocated on this board.
enum MemorySource {
    /// `/dev/vcio`, falling back to pagemap.
    Kernel,
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

/// Opens the board `config.sampler.backend` names.
pub(super) fn open(config: &Config) -> Result<Source, SamplerError> {
    let s = &config.sampler;
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
                memory: MemorySource::Kernel,
                keepalive: Keepalive { _emulator: None },
            })
        }
        Backend::Emulated => {
            let (emulator, path, clock): (Option<Emulator>, _, Arc<dyn HostClock>) =
                match &s.emulated.mem {
                    Some(path) => (None, path.clone(), Arc::new(SystemClock)),
                    None => {
                        let e = emu::EmuOptions::from_config(s)
                            .inspect(|o| {
                                if let Some(t) = &o.signal {
                                    crate::sampler::warn_uncovered(&s.emulated.signal, t, config);
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
        Backend::Replay => Err(SamplerError::Settings {
            field: "sampler.backend".into(),
            reason: "replay is not a DMA backend".into(),
        }),
    }
}

impl Source {
    /// Allocates `bytes` of DMA memory the way this board does it.
    pub fn allocate(
        &self,
        periph: &Peripherals,
        bytes: usize,
    ) -> Result<Box<dyn DmaMemory>, HwError> {
        match self.memory {
            MemorySource::BoardMailbox { buffer_phys } => {
                let regs = self.mem.map(periph.base + mbox::BASE, 0x40)?;
                let buffer = self.mem.map(buffer_phys, 4096)?;
                let transport =
                    MailboxRegisters::new(regs, buffer, self.board.dram_bus(buffer_phys));
                let m = MailboxMemory::allocate(
                    Mailbox::new(transport),
                    &self.mem,
                    bytes,
                    self.board.mailbox_flags,
                )?;
                Ok(Box::new(m))
            }
            MemorySource::Kernel => {
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
                        PagemapMemory::allocate(&self.mem, bytes, self.board.dram_bus_alias)
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
