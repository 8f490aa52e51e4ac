//! Physical memory through a memory file: `/dev/mem` on a Pi, the emulated board's file in tests.
//! The same code maps both, so what the tests run is what runs on a board.
//!
//! Every access is bounds-checked against the mapping: an out-of-range offset is a bug in a
//! constant, and it must panic here rather than touch memory we do not own.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::ptr;

use memmap2::{MmapOptions, MmapRaw};

use super::access::{read_words, write_words, Words};
use super::HwError;

/// An open physical-memory file (`/dev/mem` or the emulated board).
#[derive(Debug)]
pub struct PhysMem {
    file: File,
    path: PathBuf,
}

impl PhysMem {
    /// Opens `path` read-write; `O_SYNC` makes `/dev/mem` mappings uncached, as registers need.
    pub fn open(path: &Path) -> Result<PhysMem, HwError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_SYNC)
            .open(path)
            .map_err(|source| HwError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(PhysMem {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The file's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Maps `len` bytes of physical memory starting at `phys` (any alignment).
    pub fn map(&self, phys: u64, len: usize) -> Result<Mapping, HwError> {
        let page = page_size();
        let start = phys - phys % page;
        let lead = (phys - start) as usize;
        let map = MmapOptions::new()
            .offset(start)
            .len(lead + len)
            .map_raw(&self.file)
            .map_err(|source| HwError::Map {
                path: self.path.clone(),
                phys,
                len,
                source,
            })?;
        Ok(Mapping {
            map: Backing::File(map),
            lead,
            len,
            phys,
        })
    }

    /// Maps the physical pages at `frames` (each page-aligned, one host page each) side by side
    /// into one window, in the order given: the CPU's uncached view of memory that is not
    /// physically contiguous (pagemap DMA memory). `phys()` of the result is the first frame.
    pub fn map_frames(&self, frames: &[u64]) -> Result<Mapping, HwError> {
        let page = page_size();
        let len = frames.len() * page as usize;
        let map_err = |phys: u64, source: std::io::Error| HwError::Map {
            path: self.path.clone(),
            phys,
            len,
            source,
        };
        let first = *frames
            .first()
            .ok_or_else(|| map_err(0, std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
        if let Some(&bad) = frames.iter().find(|f| *f % page != 0) {
            return Err(map_err(
                bad,
                std::io::Error::from(std::io::ErrorKind::InvalidInput),
            ));
        }
        // SAFETY: a fresh anonymous reservation with no access: it only claims the address
        // range, which the fixed mappings below replace page by page.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(map_err(first, std::io::Error::last_os_error()));
        }
        let pages = RawPages {
            ptr: base.cast(),
            len,
        };
        for (i, &frame) in frames.iter().enumerate() {
            let offset = libc::off_t::try_from(frame).map_err(|_| {
                map_err(
                    frame,
                    std::io::Error::from(std::io::ErrorKind::InvalidInput),
                )
            })?;
            // SAFETY: the target lies inside the reservation made above, which this process
            // owns (MAP_FIXED replaces only it); the file is the memory device.
            let got = unsafe {
                libc::mmap(
                    pages.ptr.add(i * page as usize).cast(),
                    page as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    std::os::fd::AsRawFd::as_raw_fd(&self.file),
                    offset,
                )
            };
            if got == libc::MAP_FAILED {
                // `pages` unmaps the whole range when it drops.
                return Err(map_err(frame, std::io::Error::last_os_error()));
            }
        }
        Ok(Mapping {
            map: Backing::Pages(pages),
            lead: 0,
            len,
            phys: first,
        })
    }
}

impl Mapping {
    /// This process's own (cached) mapping `map` as a window whose first page is at physical
    /// `phys`: only for models without caches (QEMU), where the CPU's cached view and what
    /// the DMA engine sees are the same; see `pagemap::PagemapMemory::allocate_own_mapping`.
    pub fn own(map: memmap2::MmapMut, phys: u64) -> Mapping {
        let len = map.len();
        Mapping {
            map: Backing::File(MmapRaw::from(map)),
            lead: 0,
            len,
            phys,
        }
    }
}

/// Page-by-page mappings placed side by side in one reserved range; unmapped on drop.
#[derive(Debug)]
struct RawPages {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the range is plain shared memory owned by this value; every access goes through the
// bounds-checked volatile accessors of `Mapping`, as for `MmapRaw` (which is Send + Sync).
unsafe impl Send for RawPages {}
// SAFETY: as above: `&RawPages` only hands out the base address.
unsafe impl Sync for RawPages {}

impl Drop for RawPages {
    fn drop(&mut self) {
        // SAFETY: ptr/len are exactly the reservation made in `map_frames`, still mapped.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// What a `Mapping` is made of.
#[derive(Debug)]
enum Backing {
    /// One contiguous window of the memory file.
    File(MmapRaw),
    /// Pages of the memory file placed side by side.
    Pages(RawPages),
}

impl Backing {
    fn as_mut_ptr(&self) -> *mut u8 {
        match self {
            Backing::File(m) => m.as_mut_ptr(),
            Backing::Pages(p) => p.ptr,
        }
    }
}

impl Words for Mapping {
    fn read32(&self, offset: u64) -> u32 {
        Mapping::read32(self, offset)
    }

    fn write32(&self, offset: u64, value: u32) {
        Mapping::write32(self, offset, value)
    }
}

/// The system's page size.
pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}

/// A window of physical memory. Unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    map: Backing,
    lead: usize,
    len: usize,
    phys: u64,
}

impl Mapping {
    /// Physical address of offset 0.
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Address of offset 0 in this process, for the teardown registry (which must stop channels
    /// from signal handlers, where no Rust reference can be reached).
    pub(super) fn base_addr(&self) -> usize {
        self.map.as_mut_ptr() as usize + self.lead
    }

    /// Pointer to the aligned u32 at `offset`, after checking it lies inside the mapping.
    fn word(&self, offset: u64) -> *mut u32 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        assert!(
            offset % 4 == 0 && offset.checked_add(4).is_some_and(|end| end <= self.len),
            "register offset {offset:#x} outside a {:#x}-byte mapping at {:#x}",
            self.len,
            self.phys
        );
        // SAFETY: offset + 4 <= len was checked above, so the pointer stays inside the mapping;
        // the mapping starts page-aligned and `lead`/`offset` are multiples of 4.
        unsafe { self.map.as_mut_ptr().add(self.lead + offset).cast::<u32>() }
    }

    /// Volatile 32-bit read: registers and DMA-written memory change behind the compiler's back.
    pub fn read32(&self, offset: u64) -> u32 {
        let p = self.word(offset);
        // SAFETY: `word` checked that `p` is an aligned u32 inside the live mapping.
        unsafe { ptr::read_volatile(p) }
    }

    /// Volatile 32-bit write.
    pub fn write32(&self, offset: u64, value: u32) {
        let p = self.word(offset);
        // SAFETY: `word` checked that `p` is an aligned u32 inside the live mapping.
        unsafe { ptr::write_volatile(p, value) }
    }

    /// Copies `dst.len()` words starting at `offset`, one aligned 32-bit volatile load each:
    /// never `memcpy`, whose wide and unaligned loads fault on a Device mapping (see
    /// [`super::access`]).
    ///
    /// The caller must only copy memory nobody writes during the copy (a completed DMA block);
    /// the sampler checks block ticks afterwards to detect a lapped ring.
    pub fn copy_out(&self, offset: u64, dst: &mut [u32]) {
        self.check_range(offset, dst.len() * 4);
        read_words(self, offset, dst);
    }

    /// Writes `src` starting at `offset` (control blocks), one aligned 32-bit store each.
    pub fn copy_in(&self, offset: u64, src: &[u32]) {
        self.check_range(offset, src.len() * 4);
        // No fence here: `fence(SeqCst)` is `dmb ish`, the wrong domain for the DMA engine;
        // `channel::start` issues `dsb st` before the write that makes the engine read these.
        write_words(self, offset, src);
    }

    /// Fills `len` bytes at `offset` with zeros.
    pub fn zero(&self, offset: u64, len: usize) {
        self.check_range(offset, len);
        for i in (0..len as u64).step_by(4) {
            self.write32(offset + i, 0);
        }
    }

    /// Panics unless `[offset, offset + bytes)` lies inside the mapping.
    fn check_range(&self, offset: u64, bytes: usize) {
        let end = usize::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(bytes));
        assert!(
            end.is_some_and(|end| end <= self.len) && offset % 4 == 0,
            "range {offset:#x}+{bytes:#x} outside a {:#x}-byte mapping at {:#x}",
            self.len,
            self.phys
        );
    }
}

#[cfg(test)]
#[path = "mmio_tests.rs"]
mod tests;
