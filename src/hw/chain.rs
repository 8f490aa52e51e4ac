//! The sampling chain: a ring of DMA control blocks and the memory they fill, laid out once
//! and written as a plain word image (pure: tested without hardware).
//!
//! ```text
//! block b:  [tick: CLO → ticks[b]]  K × ( [level: GPLEV0(+1) → levels[b][i]]  [pace: word → FIFO, DREQ] )
//! last CB of the last block → first CB of block 0
//! ```
//!
//! Memory, from offset 0: all CBs (32-byte aligned), the ticks (one word per block), the
//! levels (`K · words` per block), the constant word the pace CBs write; rounded up to a page.
//! The tick CB runs right after the previous block's last pace write, so `ticks[b]` is the time
//! of sample 0 of block `b`.

use super::buspages::BusPages;
use super::regs::{dma, gpio, mem, periph_bus, st};
use super::HwError;
use crate::block::LevelWords;

/// Most DMA memory one chain may use: mailbox memory comes out of the GPU's share (`gpu_mem`,
/// 76 MB by default), so a chain beyond this would starve the GPU or fail to allocate.
pub const MAX_CHAIN_BYTES: usize = 32 << 20;
/// Bytes in one memory word.
const WORD: usize = 4;
/// Words in one control block.
const CB_WORDS: usize = dma::CB_BYTES / WORD;

/// What the chain is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSpec {
    /// Samples per block (K): one timer read per block.
    pub block_samples: u32,
    /// Blocks in the ring (at least 2: one filling while the consumer reads another).
    pub blocks: u32,
    /// Level words per sample.
    pub words: LevelWords,
    /// PERMAP of the pacing FIFO's DREQ (`PacingPlan::permap`).
    pub permap: u32,
    /// Offset of the pacing FIFO from the peripheral base (`PacingPlan::fifo_offset`).
    pub fifo_offset: u64,
    /// Physical peripheral base of the board (only its low 24 bits reach the bus address).
    pub periph_base: u64,
    /// The chain will run on a lite channel (7–14): no 2D mode, short transfers.
    pub lite_channel: bool,
}

/// Blocks in the ring for a config: enough to hold `buffer_ms` of signal, at least 2.
pub fn blocks_for(period_us: u32, block_samples: u32, buffer_ms: u32) -> u32 {
    let block_us = (u64::from(period_us) * u64::from(block_samples)).max(1);
    let buffer_us = u64::from(buffer_ms) * 1000;
    u32::try_from(buffer_us.div_ceil(block_us))
        .unwrap_or(u32::MAX)
        .max(2)
}

/// Where in the chain the engine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Block whose CBs are running.
    pub block: u32,
    /// CB within the block: 0 the tick, then level/pace pairs (`1 + 2i`, `2 + 2i` for sample i).
    pub cb_in_block: u32,
}

/// Byte offsets of a chain's parts in its DMA memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLayout {
    spec: ChainSpec,
    cbs_per_block: usize,
    ticks_at: usize,
    levels_at: usize,
    pace_word_at: usize,
    bytes: usize,
}

/// `n` rounded up to a multiple of `to`.
fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

impl ChainLayout {
    /// Lays out the chain, refusing specs the engine or the memory budget cannot take.
    pub fn new(spec: ChainSpec) -> Result<ChainLayout, HwError> {
        let bad = |field: &str, reason: String| HwError::Settings {
            field: field.into(),
            reason,
        };
        if spec.block_samples == 0 {
            return Err(bad("sampler.block_samples", "must be at least 1".into()));
        }
        if spec.blocks < 2 {
            return Err(bad(
                "sampler.buffer_ms",
                format!("{} block(s): the ring needs at least 2", spec.blocks),
            ));
        }
        let level_bytes = spec.words.count() * WORD;
        // Every CB moves one or two words, far under a lite channel's TXFR_LEN limit, and none
        // uses 2D mode: the check stands guard should a CB ever grow.
        if spec.lite_channel && level_bytes > dma::LITE_MAX_TXFR as usize {
            return Err(bad(
                "sampler.dma_channel",
                format!("a lite channel cannot move {level_bytes} bytes per control block"),
            ));
        }
        let too_big = || {
            bad(
                "sampler.buffer_ms",
                format!(
                    "{} blocks of {} samples need more than {MAX_CHAIN_BYTES} bytes of DMA memory; \
                     shorten sampler.buffer_ms or lengthen sampler.period_us",
                    spec.blocks, spec.block_samples
                ),
            )
        };
        let k = spec.block_samples as usize;
        let blocks = spec.blocks as usize;
        let cbs_per_block = 1 + 2 * k;
        let cb_bytes = blocks
            .checked_mul(cbs_per_block)
            .and_then(|n| n.checked_mul(dma::CB_BYTES))
            .filter(|&n| n <= MAX_CHAIN_BYTES)
            .ok_or_else(too_big)?;
        let ticks_at = cb_bytes;
        let levels_at = ticks_at + round_up(blocks * WORD, dma::CB_ALIGN);
        let levels_bytes = blocks
            .checked_mul(k * level_bytes)
            .filter(|&n| n <= MAX_CHAIN_BYTES)
            .ok_or_else(too_big)?;
        let pace_word_at = levels_at + round_up(levels_bytes, dma::CB_ALIGN);
        let bytes = round_up(pace_word_at + WORD, mem::PAGE_BYTES);
        if bytes > MAX_CHAIN_BYTES {
            return Err(too_big());
        }
        Ok(ChainLayout {
            spec,
            cbs_per_block,
            ticks_at,
            levels_at,
            pace_word_at,
            bytes,
        })
    }

    /// Bytes of DMA memory the chain needs (CBs, ticks, levels, pace word), page-rounded.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Blocks in the ring.
    pub fn blocks(&self) -> u32 {
        self.spec.blocks
    }

    /// Samples per block.
    pub fn block_samples(&self) -> u32 {
        self.spec.block_samples
    }

    /// Control blocks per block: the tick plus a level and a pace CB per sample.
    pub fn cbs_per_block(&self) -> u32 {
        self.cbs_per_block as u32
    }

    /// The spec the layout was made from.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// Offset of block `block`'s tick word.
    pub fn ticks_offset(&self, block: u32) -> u64 {
        (self.ticks_at + block as usize * WORD) as u64
    }

    /// Offset of block `block`'s first level word.
    pub fn levels_offset(&self, block: u32) -> u64 {
        (self.levels_at + block as usize * self.level_words_per_block() * WORD) as u64
    }

    /// Level words one block holds (`K · words`, sample-major).
    pub fn level_words_per_block(&self) -> usize {
        self.spec.block_samples as usize * self.spec.words.count()
    }

    /// Bus address of the first CB (what CONBLK_AD is started at).
    pub fn first_cb_bus(&self, pages: &BusPages) -> u32 {
        pages.bus(0)
    }

    /// The whole memory image for memory whose pages sit at `pages`: CBs filled, data zeroed.
    pub fn image(&self, pages: &BusPages) -> Vec<u32> {
        let mut out = vec![0; self.bytes / WORD];
        self.write_image(pages, &mut out);
        out
    }

    /// Writes the memory image into `out` (at least `bytes() / 4` words). Every address a CB
    /// names is that byte's own page's bus address: the pages need not be contiguous.
    pub fn write_image(&self, pages: &BusPages, out: &mut [u32]) {
        assert!(
            out.len() * WORD >= self.bytes,
            "chain image needs {} bytes, got {}",
            self.bytes,
            out.len() * WORD
        );
        assert!(
            pages.bytes() >= self.bytes,
            "chain needs {} bytes, the memory has {}",
            self.bytes,
            pages.bytes()
        );
        out.fill(0);
        let bus = |offset: usize| pages.bus(offset);
        let base = self.spec.periph_base;
        let clo = periph_bus(base + st::BASE + st::CLO);
        let gplev0 = periph_bus(base + gpio::BASE + gpio::GPLEV0);
        let fifo = periph_bus(base + self.spec.fifo_offset);
        let level_bytes = (self.spec.words.count() * WORD) as u32;
        // Reads of GPLEV0+1 need the source to step to the second register.
        let level_src_inc = match self.spec.words {
            LevelWords::One => 0,
            LevelWords::Two => dma::TI_SRC_INC,
        };
        let copy_ti = dma::TI_DEST_INC | dma::TI_WAIT_RESP | dma::TI_NO_WIDE_BURSTS;
        let pace_ti = dma::TI_DEST_DREQ
            | dma::ti_permap(self.spec.permap)
            | dma::TI_WAIT_RESP
            | dma::TI_NO_WIDE_BURSTS;
        let total_cbs = self.cbs_per_block * self.spec.blocks as usize;
        let mut put = |index: usize, ti: u32, src: u32, dst: u32, len: u32| {
            let next = bus(((index + 1) % total_cbs) * dma::CB_BYTES);
            let cb = &mut out[index * CB_WORDS..(index + 1) * CB_WORDS];
            cb[dma::CB_TI] = ti;
            cb[dma::CB_SOURCE_AD] = src;
            cb[dma::CB_DEST_AD] = dst;
            cb[dma::CB_TXFR_LEN] = len;
            cb[dma::CB_NEXTCONBK] = next;
        };
        for b in 0..self.spec.blocks {
            let first = b as usize * self.cbs_per_block;
            let tick = bus(self.ticks_offset(b) as usize);
            put(first, copy_ti, clo, tick, WORD as u32);
            let levels = self.levels_offset(b) as usize;
            for i in 0..self.spec.block_samples as usize {
                let cb = first + 1 + 2 * i;
                let dst = bus(levels + i * level_bytes as usize);
                put(cb, copy_ti | level_src_inc, gplev0, dst, level_bytes);
                put(cb + 1, pace_ti, bus(self.pace_word_at), fifo, WORD as u32);
            }
        }
    }

    /// The block and CB the engine is on, from its CONBLK_AD; `None` if not one of our CBs.
    pub fn position(&self, conblk_ad: u32, pages: &BusPages) -> Option<Position> {
        let offset = pages.offset(conblk_ad)?;
        if offset % dma::CB_BYTES != 0 || offset >= self.ticks_at {
            return None;
        }
        let index = offset / dma::CB_BYTES;
        Some(Position {
            block: (index / self.cbs_per_block) as u32,
            cb_in_block: (index % self.cbs_per_block) as u32,
        })
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
