//! Blocks → edge chunks: the sampler's half of the pipeline. It knows the raw level words, so it
//! decides when a pin's level is known (a pin above 31 added to 1-word samples waits for the
//! next block) and where the gaps are; everything after it sees only [`EdgeChunk`]s.

use crate::block::Block;
use crate::edges::decode::Decoder;
use crate::edges::{EdgeChunk, Gap, PinLevel};

/// The decoder plus what it needs between blocks: the last raw sample and pending pins.
#[derive(Debug)]
pub struct BlockDecoder {
    decoder: Decoder,
    /// The watched pins, in config order.
    pins: Vec<u8>,
    last_sample_us: Option<u64>,
    /// The raw last sample (bit n = GPIO n), for pins added between blocks.
    last_word: Option<u64>,
    /// Level words per sample of the last block: bits beyond them in `last_word` are unknown.
    last_words: usize,
    /// Pins added whose level the last block could not show: they start with the next block.
    pending: Vec<u8>,
    /// The sampler was restarted: the next block starts after a gap.
    restarted: bool,
}

impl BlockDecoder {
    /// A decoder watching `pins`.
    pub fn new(pins: &[u8]) -> Self {
        BlockDecoder {
            decoder: Decoder::new(pins.iter().copied()),
            pins: pins.to_vec(),
            last_sample_us: None,
            last_word: None,
            last_words: 0,
            pending: Vec::new(),
            restarted: false,
        }
    }

    /// The sampler was restarted: the next block is reported after a gap, with the samples the
    /// restart skipped (0 when its time axis continues seamlessly).
    pub fn mark_restart(&mut self) {
        self.restarted = true;
    }

    /// Watches `pins` from now on. Returns the current raw levels of the `added` pins whose
    /// level word was sampled; the others are started by the next block's
    /// [`EdgeChunk::initial`]. Nothing sampled yet: the first block starts every pin.
    pub fn rewatch(&mut self, pins: &[u8], added: &[u8], removed: &[u8]) -> Vec<PinLevel> {
        self.pins = pins.to_vec();
        self.decoder.rewatch(pins.iter().copied(), self.last_word);
        let Some(word) = self.last_word else {
            return Vec::new();
        };
        self.pending.retain(|p| !removed.contains(p));
        let mut known = Vec::new();
        for &pin in added {
            if !pins.contains(&pin) {
                continue;
            }
            if usize::from(pin) >= 32 * self.last_words {
                // Its word was not sampled: its level comes with the next block, not as a 0.
                self.pending.push(pin);
                continue;
            }
            known.push(PinLevel {
                pin,
                level: (word >> pin & 1) as u8,
            });
        }
        known
    }

    /// Decodes `block` into `chunk` (cleared first, its buffer reused). Returns false for a block
    /// without samples: there is nothing to hand on, and nothing was changed.
    pub fn decode(&mut self, block: &Block, chunk: &mut EdgeChunk) -> bool {
        let n = block.samples();
        if n == 0 {
            return false;
        }
        chunk.clear();
        let after_gap = block.lost_before > 0 || self.restarted;
        if after_gap {
            if let Some(from_us) = self.last_sample_us {
                // After a restart the new sampler cannot know what it skipped: estimate it from
                // the time between the last sample before and the first after.
                let skipped = (block.t0_us.saturating_sub(from_us)
                    / u64::from(block.period_us.max(1)))
                .saturating_sub(1);
                chunk.gap = Some(Gap {
                    from_us,
                    to_us: block.t0_us,
                    samples: block
                        .lost_before
                        .max(if self.restarted { skipped } else { 0 }),
                    edges: 0,
                });
            }
            self.restarted = false;
        }
        if self.last_word.is_none() {
            // The first sample ever seen is the initial state: reported as levels, not edges.
            chunk.initial = Some(self.decoder.levels_in(block.sample(0)));
        }
        if !self.pending.is_empty() {
            chunk.initial = Some(self.start_pending(block.sample(0)));
        }
        self.decoder.decode(block, &mut chunk.edges);
        if after_gap {
            // The edges of the first sample compare it with the last one before the gap: the
            // change happened somewhere in the gap, not at the time they are stamped with.
            for e in chunk.edges.iter_mut().take_while(|e| e.t_us == block.t0_us) {
                e.after_gap = true;
            }
        }
        let last = block.time_of(n - 1);
        chunk.until_us = last;
        self.last_sample_us = Some(last);
        self.last_word = Some(block.sample(n - 1));
        self.last_words = block.words.count();
        true
    }

    /// Starts the pending pins at their level in `first` (the first sample of the block about
    /// to be decoded), so that sample is their state, not an edge; returns those levels.
    fn start_pending(&mut self, first: u64) -> Vec<PinLevel> {
        let pending = std::mem::take(&mut self.pending);
        let mask = pending.iter().fold(0u64, |m, &p| m | 1 << p);
        let last = self.last_word.map(|w| w & !mask | first & mask);
        self.decoder.rewatch(self.pins.iter().copied(), last);
        self.last_word = last;
        pending
            .into_iter()
            .filter(|p| self.pins.contains(p))
            .map(|pin| PinLevel {
                pin,
                level: (first >> pin & 1) as u8,
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "decoding_tests.rs"]
mod tests;
