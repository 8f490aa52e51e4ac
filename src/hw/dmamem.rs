//! Memory the DMA engine can reach: physically contiguous, uncached, with a known bus address.
//!
//! Two ways to get it, behind [`DmaMemory`]: the firmware mailbox (first choice; on the emulated
//! board the same code over the board's mailbox registers) and `/proc/self/pagemap` (fallback for
//! kernels without `/dev/vcio`). Dropping the memory releases it, so whoever holds it must stop
//! the DMA channel first: see `teardown`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use memmap2::{MmapMut, MmapOptions};
use tracing::warn;

use super::mailbox::{Mailbox, MailboxTransport};
use super::mmio::{Mapping, PhysMem};
use super::HwError;

/// A block of DMA-reachable memory, mapped for the CPU.
pub trait DmaMemory: Send {
    /// Bus address of the first byte, as control blocks must name it.
    fn bus_addr(&self) -> u32;
    /// The CPU's (uncached) view of the block.
    fn mapping(&self) -> &Mapping;
    /// How the memory was obtained, for `edgetap check` and logs.
    fn method(&self) -> &'static str;
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
        };
        // From here on, Drop gives the allocation back if a later step fails.
        this.bus = this.mailbox.lock(handle)?;
        this.map = Some(mem.map(bus_to_phys(this.bus), size)?);
        Ok(this)
    }
}

impl<T: MailboxTransport> DmaMemory for MailboxMemory<T> {
    fn bus_addr(&self) -> u32 {
        self.bus
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

/// One entry of `/proc/self/pagemap`: the page frame number, if the page is present.
pub fn pagemap_pfn(entry: u64) -> Option<u64> {
    const PRESENT: u64 = 1 << 63;
    const PFN_MASK: u64 = (1 << 55) - 1;
    let pfn = entry & PFN_MASK;
    // Without CAP_SYS_ADMIN the kernel reports PFN 0 for every page: useless for DMA.
    (entry & PRESENT != 0 && pfn != 0).then_some(pfn)
}

/// Locked anonymous pages found through `/proc/self/pagemap`, used when `/dev/vcio` is missing.
///
/// The chain needs one contiguous physical range, which the kernel does not promise for
/// anonymous pages: this works when the pages happen to be contiguous and says so plainly
/// otherwise. The CPU reads them uncached through `/dev/mem`, like mailbox memory.
pub struct PagemapMemory {
    _pages: MmapMut,
    map: Mapping,
    bus: u32,
}

impl PagemapMemory {
    /// Locks `size` bytes of anonymous memory and maps its physical range from `mem`.
    pub fn allocate(mem: &PhysMem, size: usize, dram_bus_alias: u32) -> Result<Self, HwError> {
        let device = |why: String| HwError::Device(format!("pagemap DMA memory: {why}"));
        let mut pages = MmapOptions::new()
            .len(size)
            .map_anon()
            .map_err(|e| device(format!("cannot map {size} bytes: {e}")))?;
        pages
            .lock()
            .map_err(|e| device(format!("cannot lock pages: {e}")))?;
        // Touch every page so it is backed before its frame is looked up.
        for i in (0..size).step_by(4096) {
            pages[i] = 0;
        }
        let pfns = page_frames(Path::new(PAGEMAP), pages.as_ptr() as u64, size)?;
        let first = pfns[0];
        if pfns.iter().enumerate().any(|(i, &p)| p != first + i as u64) {
            return Err(device(format!(
                "the {} pages are not physically contiguous; this kernel needs /dev/vcio",
                pfns.len()
            )));
        }
        let phys = first * 4096;
        let bus = u32::try_from(phys)
            .map(|p| p | dram_bus_alias)
            .map_err(|_| device(format!("physical address {phys:#x} beyond 4 GiB")))?;
        let map = mem.map(phys, size)?;
        Ok(PagemapMemory {
            _pages: pages,
            map,
            bus,
        })
    }
}

/// This process's page table as the kernel shows it.
pub const PAGEMAP: &str = "/proc/self/pagemap";

/// The page frames of `len` bytes of this process's memory at virtual address `virt`, read from
/// `path` (the pagemap).
pub fn page_frames(path: &Path, virt: u64, len: usize) -> Result<Vec<u64>, HwError> {
    let open_err = |source| HwError::Open {
        path: path.into(),
        source,
    };
    let mut f = File::open(path).map_err(open_err)?;
    let pages = len.div_ceil(4096);
    let mut raw = vec![0u8; pages * 8];
    f.seek(SeekFrom::Start(virt / 4096 * 8))
        .and_then(|_| f.read_exact(&mut raw))
        .map_err(open_err)?;
    raw.chunks_exact(8)
        .enumerate()
        .map(|(i, c)| {
            let entry = u64::from_le_bytes(c.try_into().unwrap_or_default());
            pagemap_pfn(entry).ok_or_else(|| {
                HwError::Device(format!(
                    "pagemap DMA memory: page {i} has no frame number (not root?)"
                ))
            })
        })
        .collect()
}

impl DmaMemory for PagemapMemory {
    fn bus_addr(&self) -> u32 {
        self.bus
    }

    fn mapping(&self) -> &Mapping {
        &self.map
    }

    fn method(&self) -> &'static str {
        "pagemap"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_aliases_map_to_the_same_physical_address() {
        assert_eq!(bus_to_phys(0xC010_0000), 0x10_0000);
        assert_eq!(bus_to_phys(0x4010_0000), 0x10_0000);
    }

    #[test]
    fn pagemap_entries_decode() {
        assert_eq!(pagemap_pfn((1 << 63) | 0x1234), Some(0x1234));
        assert_eq!(pagemap_pfn(0x1234), None, "not present");
        assert_eq!(
            pagemap_pfn(1 << 63),
            None,
            "PFN hidden from unprivileged readers"
        );
        assert_eq!(
            pagemap_pfn((1 << 63) | (1 << 55) | 7),
            Some(7),
            "soft-dirty bit ignored"
        );
    }
}
