//! Memory the DMA engine can reach: uncached for the CPU, with a known bus address per page.
//!
//! Two ways to get it, behind [`DmaMemory`]: the firmware mailbox (first choice; on the emulated
//! board the same code over the board's mailbox registers) and `/proc/self/pagemap` (fallback for
//! kernels without `/dev/vcio`, see [`super::pagemap`]). Dropping the memory releases it, so
//! whoever holds it must stop the DMA channel first: see `teardown`.

use tracing::warn;

use super::buspages::BusPages;
use super::mailbox::{Mailbox, MailboxTransport};
use super::mmio::{Mapping, PhysMem};
use super::HwError;

/// How the CPU reaches pagemap DMA memory (`sampler.dma_memory`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CpuView {
    /// Through `/dev/mem`, uncached: what a Pi needs (its DMA engine does not see the CPU's
    /// caches).
    #[default]
    Uncached,
    /// Through this process's own cached mapping: ONLY for QEMU or other cache-coherent models
    /// whose kernel refuses `/dev/mem` for RAM (STRICT_DEVMEM). Never on a Pi: the engine would
    /// read stale control blocks and the CPU stale samples. Refused where `/dev/vcio` exists.
    OwnMapping,
}

/// A block of DMA-reachable memory, mapped for the CPU.
pub trait DmaMemory: Send {
    /// Bus address of every page, as control blocks must name them.
    fn pages(&self) -> &BusPages;
    /// Bus address of the first byte.
    fn bus_addr(&self) -> u32 {
        self.pages().first()
    }
    /// The CPU's (uncached) view of the block.
    fn mapping(&self) -> &Mapping;
    /// How the memory was obtained, for `edgetap check` and logs.
    fn method(&self) -> &'static str;
    /// The firmware's handle, for mailbox memory (recorded so a later run can free it).
    fn mailbox_handle(&self) -> Option<u32> {
        None
    }
}

/// Physical address behind a DRAM bus address (either alias: 0x4… on BCM2835, 0xC… later).
pub const fn bus_to_phys(bus: u32) -> u64 {
    (bus & 0x3FFF_FFFF) as u64
}

/// Memory allocated and locked through the firmware mailbox; unlocked and released on drop.
pub struct MailboxMemory<T: MailboxTransport> {
    mailbox: Mailbox<T>,
    handle: u32,
    bus: u32,
    map: Option<Mapping>,
    pages: BusPages,
}

impl<T: MailboxTransport> MailboxMemory<T> {
    /// Allocates `size` bytes (page-aligned) with the board's mailbox `flags` and maps them
    /// from `mem`.
    pub fn allocate(
        mailbox: Mailbox<T>,
        mem: &PhysMem,
        size: usize,
        flags: u32,
    ) -> Result<Self, HwError> {
        let size32 = u32::try_from(size)
            .map_err(|_| HwError::Device(format!("{size} bytes of DMA memory is too much")))?;
        let handle = mailbox.allocate(size32, 4096, flags)?;
        let mut this = MailboxMemory {
            mailbox,
            handle,
            bus: 0,
            map: None,
            pages: BusPages::new(Vec::new()),
        };
        // From here on, Drop gives the allocation back if a later step fails.
        this.bus = this.mailbox.lock(handle)?;
        this.pages = BusPages::contiguous(this.bus, size);
        this.map = Some(mem.map(bus_to_phys(this.bus), size)?);
        Ok(this)
    }
}

impl<T: MailboxTransport> DmaMemory for MailboxMemory<T> {
    fn pages(&self) -> &BusPages {
        &self.pages
    }

    fn mapping(&self) -> &Mapping {
        match &self.map {
            Some(m) => m,
            // `allocate` only returns once the mapping exists.
            None => unreachable!("MailboxMemory used before it was mapped"),
        }
    }

    fn method(&self) -> &'static str {
        "mailbox"
    }

    fn mailbox_handle(&self) -> Option<u32> {
        Some(self.handle)
    }
}

impl<T: MailboxTransport> Drop for MailboxMemory<T> {
    fn drop(&mut self) {
        self.map = None;
        if self.bus != 0 {
            if let Err(e) = self.mailbox.unlock(self.handle) {
                warn!(handle = self.handle, error = %e, "DMA memory unlock failed");
            }
        }
        if let Err(e) = self.mailbox.release(self.handle) {
            warn!(handle = self.handle, error = %e, "DMA memory release failed");
        }
    }
}

#[cfg(test)]
#[path = "dmamem_tests.rs"]
mod tests;
