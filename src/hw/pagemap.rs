//! DMA memory from `/proc/self/pagemap`, for kernels without `/dev/vcio` (pigpio#553: a CM4
//! on kernel 5.15 had none).
//!
//! As pigpio does it (pigpio.c, its pagemap path: `initPagemapBlock` and the per-page
//! `dmaPBus`), the memory is a set of locked anonymous pages wherever the kernel put them:
//!
//! * each page keeps its own bus address ([`BusPages`]), so no physical contiguity is needed
//!   (it almost never holds for a megabyte-sized chain);
//! * every page must lie in the first GiB, the legacy DMA engines' reach
//!   ([`Board::dma_bus_of_page`]); one that does not is refused, never aliased;
//! * the CPU reads and writes the pages only through `/dev/mem` (`O_SYNC`: uncached), never
//!   through the cached anonymous mapping: that mapping's lines are cleaned and invalidated
//!   once after the pages are touched, and it is then made inaccessible, so no dirty line can
//!   be written back over what the engine or we wrote later.
//!
//! What this cannot prevent: the kernel may still migrate an mlocked page (compaction), after
//! which the engine writes to the old frame. The frames are looked up twice to catch a move
//! during setup; the mailbox stays the safe choice and the log says so.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use memmap2::{MmapMut, MmapOptions};
use tracing::warn;

use super::board::Board;
use super::buspages::BusPages;
use super::dmamem::DmaMemory;
use super::mmio::{page_size, Mapping, PhysMem};
use super::regs::mem::PAGE_BYTES;
use super::HwError;

/// This process's page table as the kernel shows it.
pub const PAGEMAP: &str = "/proc/self/pagemap";

/// One entry of `/proc/self/pagemap`: the page frame number, if the page is present.
pub fn pagemap_pfn(entry: u64) -> Option<u64> {
    const PRESENT: u64 = 1 << 63;
    const PFN_MASK: u64 = (1 << 55) - 1;
    let pfn = entry & PFN_MASK;
    // Without CAP_SYS_ADMIN the kernel reports PFN 0 for every page: useless for DMA.
    (entry & PRESENT != 0 && pfn != 0).then_some(pfn)
}

/// Physical addresses of the host pages behind `len` bytes of this process's memory at virtual
/// address `virt`, read from `path` (the pagemap, which gives page frame NUMBERS: each is
/// multiplied by the page size here, once, so every caller deals in physical addresses).
pub fn page_frames(path: &Path, virt: u64, len: usize) -> Result<Vec<u64>, HwError> {
    let open_err = |source| HwError::Open {
        path: path.into(),
        source,
    };
    let page = page_size();
    let mut f = File::open(path).map_err(open_err)?;
    let pages = (len as u64).div_ceil(page) as usize;
    let mut raw = vec![0u8; pages * 8];
    f.seek(SeekFrom::Start(virt / page * 8))
        .and_then(|_| f.read_exact(&mut raw))
        .map_err(open_err)?;
    raw.chunks_exact(8)
        .enumerate()
        .map(|(i, c)| {
            let entry = u64::from_le_bytes(c.try_into().unwrap_or_default());
            pagemap_pfn(entry).map(|pfn| pfn * page).ok_or_else(|| {
                HwError::Device(format!(
                    "pagemap DMA memory: page {i} has no frame number in {} \
                     (reading frame numbers needs CAP_SYS_ADMIN)",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Bus addresses of the 4 KiB pages of the host pages at physical `frames`, each checked to be
/// within the DMA engine's reach on `board`.
pub fn bus_pages(board: &Board, frames: &[u64]) -> Result<BusPages, HwError> {
    let per_frame = (page_size() as usize / PAGE_BYTES).max(1);
    let mut pages = Vec::with_capacity(frames.len() * per_frame);
    for &frame in frames {
        for k in 0..per_frame {
            pages.push(board.dma_bus_of_page(frame + (k * PAGE_BYTES) as u64)?);
        }
    }
    Ok(BusPages::new(pages))
}

/// Pages scattered in physical memory, each with its own bus address, mapped uncached.
pub struct PagemapMemory {
    map: Mapping,
    pages: BusPages,
    /// The locked anonymous pages that own the frames; inaccessible, never read or written.
    _owner: Option<MmapMut>,
    /// How the CPU reaches the pages, for `method()`.
    method: &'static str,
}

/// `size` bytes of locked anonymous memory, every page written once so each has a private
/// frame (not the shared zero page) that the pagemap can name.
fn locked_pages(size: usize) -> Result<MmapMut, HwError> {
    let device = |why: String| HwError::Device(format!("pagemap DMA memory: {why}"));
    let mut owner = MmapOptions::new()
        .len(size)
        .populate()
        .map_anon()
        .map_err(|e| device(format!("cannot map {size} bytes: {e}")))?;
    owner
        .lock()
        .map_err(|e| device(format!("cannot lock pages: {e}")))?;
    let page = page_size() as usize;
    for i in (0..size).step_by(page) {
        owner[i] = 0;
    }
    Ok(owner)
}

impl PagemapMemory {
    /// Locks `size` bytes of anonymous memory, finds its frames through the pagemap, and maps
    /// them uncached from `mem` (`/dev/mem`).
    pub fn allocate(mem: &PhysMem, size: usize, board: &Board) -> Result<Self, HwError> {
        let device = |why: String| HwError::Device(format!("pagemap DMA memory: {why}"));
        let owner = locked_pages(size)?;
        clean_and_invalidate(&owner);
        let virt = owner.as_ptr() as u64;
        let frames = page_frames(Path::new(PAGEMAP), virt, size)?;
        let this = Self::with_frames(mem, board, &frames, Some(owner))?;
        if page_frames(Path::new(PAGEMAP), virt, size)? != frames {
            return Err(device(
                "the kernel moved a page while the chain was set up; use /dev/vcio".into(),
            ));
        }
        warn!(
            pages = frames.len(),
            "DMA memory from pagemap: works, but the kernel may migrate a page under the engine; \
             a kernel with /dev/vcio (the mailbox) is safer"
        );
        Ok(this)
    }

    /// Locks `size` bytes of anonymous memory and finds its frames as [`Self::allocate`]
    /// does, but keeps the process's own cached mapping as the CPU's view instead of mapping
    /// the frames uncached from `/dev/mem`.
    ///
    /// ONLY for models without caches (QEMU's raspi3b), where a kernel with STRICT_DEVMEM
    /// refuses `/dev/mem` for RAM. On a Pi the engine does not see the CPU's caches: it would
    /// run stale control blocks and we would read stale samples.
    pub fn allocate_own_mapping(size: usize, board: &Board) -> Result<Self, HwError> {
        let device = |why: String| HwError::Device(format!("pagemap DMA memory: {why}"));
        let owner = locked_pages(size)?;
        let virt = owner.as_ptr() as u64;
        let frames = page_frames(Path::new(PAGEMAP), virt, size)?;
        let pages = bus_pages(board, &frames)?;
        if page_frames(Path::new(PAGEMAP), virt, size)? != frames {
            return Err(device(
                "the kernel moved a page while the chain was set up".into(),
            ));
        }
        warn!(
            pages = frames.len(),
            "DMA memory through this process's own CACHED mapping (sampler.dma_memory = \"own-mapping\"): \
             correct only on QEMU or another cache-coherent model, NEVER on a Raspberry Pi"
        );
        let first = frames.first().copied().unwrap_or_default();
        Ok(PagemapMemory {
            map: Mapping::own(owner, first),
            pages,
            _owner: None,
            method: "pagemap (own cached mapping: QEMU only)",
        })
    }

    /// Memory made of the frames at physical `frames` (host-page aligned), owned by `owner`
    /// (None: owned elsewhere, e.g. emulated DRAM in tests).
    pub fn with_frames(
        mem: &PhysMem,
        board: &Board,
        frames: &[u64],
        owner: Option<MmapMut>,
    ) -> Result<Self, HwError> {
        let pages = bus_pages(board, frames)?;
        let map = mem.map_frames(frames)?;
        if let Some(owner) = &owner {
            make_inaccessible(owner);
        }
        Ok(PagemapMemory {
            map,
            pages,
            _owner: owner,
            method: "pagemap",
        })
    }
}

impl DmaMemory for PagemapMemory {
    fn pages(&self) -> &BusPages {
        &self.pages
    }

    fn mapping(&self) -> &Mapping {
        &self.map
    }

    fn method(&self) -> &'static str {
        self.method
    }
}

/// Cleans and invalidates the CPU caches over `m`, so no dirty line of the cached mapping is
/// written back over DMA memory later. Cache-coherent hosts (x86, the emulator) need nothing.
fn clean_and_invalidate(m: &MmapMut) {
    #[cfg(target_arch = "aarch64")]
    {
        // Linux sets SCTLR_EL1.UCI, so EL0 may clean+invalidate by VA; 64-byte lines on every
        // Pi core (Cortex-A53/A72).
        for off in (0..m.len()).step_by(64) {
            let p = m.as_ptr().wrapping_add(off);
            // SAFETY: `p` lies inside the live mapping; `dc civac` only moves cache lines.
            unsafe {
                std::arch::asm!("dc civac, {0}", in(reg) p, options(nostack, preserves_flags))
            };
        }
        // SAFETY: a barrier instruction, no memory operands.
        unsafe { std::arch::asm!("dsb sy", options(nostack, preserves_flags)) };
    }
    #[cfg(target_arch = "arm")]
    {
        // ARM's private cacheflush syscall (__ARM_NR_cacheflush) cleans and invalidates.
        const ARM_NR_CACHEFLUSH: libc::c_long = 0x0f0002;
        let start = m.as_ptr() as libc::c_long;
        // SAFETY: the range is our own live mapping; the call only does cache maintenance.
        unsafe { libc::syscall(ARM_NR_CACHEFLUSH, start, start + m.len() as libc::c_long, 0) };
    }
    #[cfg(not(any(target_arch = "aarch64", target_arch = "arm")))]
    let _ = m;
}

/// Takes every access right from the cached mapping: from now on only the uncached view is
/// used, and a stray access faults instead of dirtying a cache line.
fn make_inaccessible(m: &MmapMut) {
    // SAFETY: the range is exactly our own live mapping; only its protection changes, and no
    // Rust reference into it is used after this (the owner is kept only to hold the frames).
    let rc = unsafe { libc::mprotect(m.as_ptr() as *mut libc::c_void, m.len(), libc::PROT_NONE) };
    if rc != 0 {
        warn!(error = %std::io::Error::last_os_error(), "cannot protect the cached view of pagemap memory");
    }
}

#[cfg(test)]
#[path = "pagemap_tests.rs"]
mod tests;
