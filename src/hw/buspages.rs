//! Where each page of a chain's memory sits on the DMA engine's bus.
//!
//! Mailbox memory is one contiguous bus range; pagemap memory is a set of anonymous pages that
//! the kernel scattered anywhere in RAM. Control blocks therefore name every address through
//! [`BusPages`], which maps a byte offset in the CPU's view to the bus address of that byte's
//! own page, as pigpio does for its pagemap memory (pigpio.c keeps one bus address per page,
//! `dmaPBus`/`initPagemapBlock`, and its CBs never assume two pages are adjacent).
//!
//! Nothing the chain writes straddles a page: control blocks are 32 bytes and 32-byte aligned,
//! tick words are single words, and a sample's one or two level words start on a multiple of
//! their own size from a 32-byte aligned base, so each transfer lies inside one page.

use super::regs::mem::PAGE_BYTES;

/// Bus address of every 4 KiB page of a block of DMA memory, in CPU (offset) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusPages {
    /// Bus address of page i (page-aligned).
    pages: Vec<u32>,
    /// (bus address, page index), sorted by bus address: the reverse lookup.
    sorted: Vec<(u32, u32)>,
}

impl BusPages {
    /// Pages at the given bus addresses (each page-aligned), in offset order.
    pub fn new(pages: Vec<u32>) -> BusPages {
        debug_assert!(pages.iter().all(|p| *p as usize % PAGE_BYTES == 0));
        let mut sorted: Vec<(u32, u32)> = pages
            .iter()
            .enumerate()
            .map(|(i, &p)| (p, i as u32))
            .collect();
        sorted.sort_unstable();
        BusPages { pages, sorted }
    }

    /// `bytes` (rounded up to pages) of contiguous memory starting at bus address `first`.
    pub fn contiguous(first: u32, bytes: usize) -> BusPages {
        let n = bytes.div_ceil(PAGE_BYTES);
        BusPages::new(
            (0..n)
                .map(|i| first.wrapping_add((i * PAGE_BYTES) as u32))
                .collect(),
        )
    }

    /// Bus address of the first byte.
    pub fn first(&self) -> u32 {
        self.pages.first().copied().unwrap_or(0)
    }

    /// Number of pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether there are no pages.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Bytes covered.
    pub fn bytes(&self) -> usize {
        self.pages.len() * PAGE_BYTES
    }

    /// Bus address of the byte at `offset`.
    ///
    /// Panics when `offset` lies beyond the memory: a control block naming it would make the
    /// engine write into memory that is not ours.
    pub fn bus(&self, offset: usize) -> u32 {
        let page = self.pages.get(offset / PAGE_BYTES).unwrap_or_else(|| {
            panic!(
                "offset {offset:#x} beyond {} bytes of DMA memory",
                self.bytes()
            )
        });
        page + (offset % PAGE_BYTES) as u32
    }

    /// Offset of the byte at bus address `bus`, if it is one of ours.
    pub fn offset(&self, bus: u32) -> Option<usize> {
        let page_bus = bus - bus % PAGE_BYTES as u32;
        let i = self
            .sorted
            .binary_search_by_key(&page_bus, |&(p, _)| p)
            .ok()?;
        let index = self.sorted[i].1 as usize;
        Some(index * PAGE_BYTES + (bus - page_bus) as usize)
    }

    /// The bus addresses of the pages, in offset order.
    pub fn pages(&self) -> &[u32] {
        &self.pages
    }
}

#[cfg(test)]
#[path = "buspages_tests.rs"]
mod tests;
