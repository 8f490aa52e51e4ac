//! The finite chain `edgetap selftest` runs: a few blocks of one timer read and some level
//! reads each, unpaced, the last control block ending the chain (NEXTCONBK = 0). It checks what
//! a model without pacing can check (our emulator, QEMU's raspi3b, a real Pi alike): the
//! control-block layout and TI bits, bus↔physical translation of every page, timer and GPLEV
//! reads, and that the channel stops by itself without an error.
//!
//! Memory, from offset 0: the CBs, then per block one tick word and `reads × words` level
//! words, each region followed by a guard word; everything but the CBs starts as [`SENTINEL`].
//! A word the engine should write that still holds the sentinel did not land; a guard word
//! that changed was written where the layout says nothing goes.

use super::buspages::BusPages;
use super::regs::{dma, gpio, mem, periph_bus, st};
use crate::block::LevelWords;

/// What unwritten data words hold.
pub const SENTINEL: u32 = 0xDEAD_BEEF;
/// Bytes in one word.
const WORD: usize = 4;

/// The finite chain's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiniteChain {
    /// Blocks (one tick read each).
    pub blocks: usize,
    /// Level reads per block.
    pub reads: usize,
    /// Level words per read.
    pub words: LevelWords,
    /// Physical peripheral base.
    pub periph_base: u64,
}

impl FiniteChain {
    /// Control blocks in the chain.
    pub fn cbs(&self) -> usize {
        self.blocks * (1 + self.reads)
    }

    /// Words of one block's data region: tick, guard, levels, guard, padded to 32 bytes so
    /// every level transfer (one or two words) starts on its own size and never crosses into
    /// another page: on scattered pages the second word would land in someone else's.
    fn block_words(&self) -> usize {
        (1 + 1 + self.reads * self.words.count() + 1).div_ceil(8) * 8
    }

    /// Offset of the data regions (after the CBs).
    fn data_at(&self) -> usize {
        self.cbs() * dma::CB_BYTES
    }

    /// Offset of block `b`'s tick word.
    pub fn tick_offset(&self, b: usize) -> usize {
        self.data_at() + b * self.block_words() * WORD
    }

    /// Offset of block `b`'s first level word.
    pub fn levels_offset(&self, b: usize) -> usize {
        self.tick_offset(b) + 2 * WORD
    }

    /// Bytes the chain needs, page-rounded.
    pub fn bytes(&self) -> usize {
        let end = self.data_at() + self.blocks * self.block_words() * WORD;
        end.div_ceil(mem::PAGE_BYTES) * mem::PAGE_BYTES
    }

    /// The memory image for pages at `pages`.
    pub fn image(&self, pages: &BusPages) -> Vec<u32> {
        let mut out = vec![SENTINEL; self.bytes() / WORD];
        let cb_words = dma::CB_BYTES / WORD;
        let clo = periph_bus(self.periph_base + st::BASE + st::CLO);
        let gplev0 = periph_bus(self.periph_base + gpio::BASE + gpio::GPLEV0);
        let level_bytes = self.words.count() * WORD;
        let src_inc = match self.words {
            LevelWords::One => 0,
            LevelWords::Two => dma::TI_SRC_INC,
        };
        let ti = dma::TI_DEST_INC | dma::TI_WAIT_RESP | dma::TI_NO_WIDE_BURSTS;
        let total = self.cbs();
        let mut index = 0;
        let mut put = |src: u32, dst: usize, len: usize, ti: u32| {
            let next = if index + 1 == total {
                0
            } else {
                pages.bus((index + 1) * dma::CB_BYTES)
            };
            let cb = &mut out[index * cb_words..(index + 1) * cb_words];
            cb.copy_from_slice(&[ti, src, pages.bus(dst), len as u32, 0, next, 0, 0]);
            index += 1;
        };
        for b in 0..self.blocks {
            put(clo, self.tick_offset(b), WORD, ti);
            for i in 0..self.reads {
                let dst = self.levels_offset(b) + i * level_bytes;
                put(gplev0, dst, level_bytes, ti | src_inc);
            }
        }
        out
    }

    /// Checks the data words after the chain ran: every tick and level word written, every
    /// guard word untouched. Returns the first problem.
    pub fn check_layout(&self, read: impl Fn(usize) -> u32) -> Result<(), String> {
        let level_words = self.reads * self.words.count();
        for b in 0..self.blocks {
            let tick = self.tick_offset(b);
            if read(tick) == SENTINEL {
                return Err(format!(
                    "block {b}: the timer word at +{tick:#x} was not written"
                ));
            }
            let guards = [tick + WORD, self.levels_offset(b) + level_words * WORD];
            for g in guards {
                if read(g) != SENTINEL {
                    return Err(format!("block {b}: guard word at +{g:#x} was overwritten"));
                }
            }
            for w in 0..level_words {
                let at = self.levels_offset(b) + w * WORD;
                if read(at) == SENTINEL {
                    return Err(format!(
                        "block {b}: level word {w} at +{at:#x} was not written"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The tick words, in block order.
    pub fn ticks(&self, read: impl Fn(usize) -> u32) -> Vec<u32> {
        (0..self.blocks)
            .map(|b| read(self.tick_offset(b)))
            .collect()
    }
}

/// Whether the timer words never go back and advance over the chain (u32 wrap allowed).
pub fn ticks_advance(ticks: &[u32]) -> bool {
    let steps: Vec<u32> = ticks.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    // A step above 2^31 is a step back.
    steps.iter().all(|&s| s < 1 << 31) && steps.iter().any(|&s| s > 0)
}

#[cfg(test)]
#[path = "selftest_tests.rs"]
mod tests;
