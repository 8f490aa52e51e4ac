//! What the loopback selftest captured: the blocks the DMA sampler handed on, decoded by the
//! agent's own decoder, with the samples lost between them.

use crate::edges::decode::Decoder;
use crate::edges::Edge;
use crate::sampler::{Block, LevelWords, Sampler};
use crate::shutdown::Shutdown;

use super::DmaSampler;

/// The blocks the sampler handed on, decoded as the agent decodes them.
pub(super) struct Capture {
    decoder: Decoder,
    block: Block,
    edges: Vec<Edge>,
    /// Samples lost between blocks.
    pub(super) lost: u64,
    /// Blocks taken.
    pub(super) blocks: u64,
    /// UTC µs just after the last block's last sample.
    pub(super) end_us: u64,
}

impl Capture {
    /// A capture of `pins`' edges from blocks of `words` level words at `period_us`.
    pub(super) fn new(pins: [u8; 2], words: LevelWords, period_us: u32) -> Capture {
        Capture {
            decoder: Decoder::new(pins),
            block: Block::new(period_us, words),
            edges: Vec::new(),
            lost: 0,
            blocks: 0,
            end_us: 0,
        }
    }

    /// Takes and decodes the next block.
    pub(super) fn next(
        &mut self,
        sampler: &mut DmaSampler,
        shutdown: &Shutdown,
    ) -> Result<(), String> {
        match sampler.next_block(&mut self.block, shutdown) {
            Ok(true) => {
                if self.blocks > 0 {
                    self.lost += self.block.lost_before;
                }
                self.blocks += 1;
                self.decoder.decode(&self.block, &mut self.edges);
                self.end_us = self.block.end_us();
                Ok(())
            }
            Ok(false) => Err("interrupted: the sampler stopped".into()),
            Err(e) => Err(format!("the sampler failed: {e}")),
        }
    }

    /// `(µs, high)` of `pin`'s edges from `from_us` on.
    pub(super) fn pin_edges(
        &self,
        pin: u8,
        from_us: u64,
    ) -> impl Iterator<Item = (u64, bool)> + '_ {
        self.edges
            .iter()
            .filter(move |e| e.pin == pin && e.t_us >= from_us)
            .map(|e| (e.t_us, e.level == 1))
    }
}
