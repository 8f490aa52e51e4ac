//! The pure middle of the data flow for one run of a sampler: decode a block, then filter.
//!
//! Two halves meet at an [`EdgeChunk`]: [`decoding`] turns blocks into chunks, [`filtering`]
//! turns chunks into reported edges. A source that delivers edges rather than samples feeds
//! [`Filtering`] directly, with its gaps and initial levels carried the same way.
//!
//! The same pipeline serves `run` (which batches and publishes) and `capture` (which writes a
//! file), so both see exactly the same edges.

pub mod decoding;
pub mod filtering;

pub use decoding::BlockDecoder;
pub use filtering::Filtering;

use crate::block::Block;
use crate::config::{ChangeSet, InputConfig};
use crate::edges::invert::Inversion;
use crate::edges::{Edge, EdgeChunk, Gap, PinLevel, RateLimited};

/// What a block produced besides its edges.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BlockEvents {
    /// Levels of pins that start being reported with this block: every watched pin on the
    /// first block; later, pins added while the sampler did not read their level word yet (a pin
    /// above 31 added to 1-word samples). State, not edges.
    pub initial: Option<Vec<PinLevel>>,
    /// Samples lost just before this block.
    pub gap: Option<Gap>,
}

/// Decoder plus per-pin filters, fed block by block. Between the two, inverted inputs
/// (`invert = true`) turn electrical levels into logical ones, so the filters and everything
/// after them see logical levels only.
#[derive(Debug)]
pub struct Pipeline {
    decoding: BlockDecoder,
    inversion: Inversion,
    filtering: Filtering,
    /// What the last block delivered (its edge buffer reused).
    chunk: EdgeChunk,
}

impl Pipeline {
    /// A pipeline watching `inputs` with their filters.
    pub fn new(inputs: &[InputConfig]) -> Self {
        Pipeline {
            decoding: BlockDecoder::new(&pins(inputs)),
            inversion: inversion(inputs),
            filtering: Filtering::new(inputs),
            chunk: EdgeChunk::default(),
        }
    }

    /// The sampler was restarted (new settings): the next block is reported after a gap, with
    /// the samples the restart skipped (0 when its time axis continues seamlessly).
    pub fn mark_restart(&mut self) {
        self.decoding.mark_restart();
    }

    /// Switches to `inputs` between two blocks, rebuilding only the pins `changes` names: added
    /// pins start at their current raw level, removed pins stop, refiltered pins get a fresh
    /// filter, pins with a new rate limit only a fresh limiter (their other filters keep their
    /// state). Untouched pins keep their filter state, so none of their edges is lost.
    ///
    /// A refiltered pin whose current raw level differs from what it last reported gets that
    /// change reported now (appended to `out`), so the published level stays true; so does a
    /// change the old limiter was holding back. A pin whose `invert` changed is refiltered: its
    /// logical level flips, reported now as an edge. Returns the levels of the added pins
    /// (state, not edges).
    pub fn reconfigure(
        &mut self,
        inputs: &[InputConfig],
        changes: &ChangeSet,
        out: &mut Vec<Edge>,
    ) -> Vec<PinLevel> {
        let new = inversion(inputs);
        let flipped = self.inversion.changed(&new);
        self.inversion = new;
        let mut known =
            self.decoding
                .rewatch(&pins(inputs), &changes.pins_added, &changes.pins_removed);
        self.inversion.apply_levels(&mut known);
        self.filtering.flip_raw(flipped);
        let mut changes = std::borrow::Cow::Borrowed(changes);
        let unfiltered: Vec<u8> = (0..64u8)
            .filter(|p| flipped >> p & 1 == 1 && !changes.filters_changed.contains(p))
            .collect();
        if !unfiltered.is_empty() {
            // Its filter holds the old logical level: rebuilt whatever the caller classified.
            let c = changes.to_mut();
            c.filters_changed.extend(unfiltered);
            c.filters_changed.sort_unstable();
        }
        self.filtering.reconfigure(inputs, &changes, &known, out)
    }

    /// Edges each pin's rate limit dropped while processing the last block (pin order; pins
    /// with none left out).
    pub fn rate_limited(&self) -> &[RateLimited] {
        self.filtering.rate_limited()
    }

    /// UTC µs of the last sample processed.
    pub fn last_sample_us(&self) -> Option<u64> {
        self.filtering.last_sample_us()
    }

    /// Decodes and filters `block`, appending the reported edges to `out`.
    pub fn process(&mut self, block: &Block, out: &mut Vec<Edge>) -> BlockEvents {
        if !self.decoding.decode(block, &mut self.chunk) {
            self.filtering.idle();
            return BlockEvents::default();
        }
        self.inversion.apply(&mut self.chunk);
        self.filtering.process(&self.chunk, out)
    }
}

/// The inverted pins of `inputs`.
fn inversion(inputs: &[InputConfig]) -> Inversion {
    Inversion::of(inputs.iter().filter(|i| i.invert).map(|i| i.pin))
}

/// The pins of `inputs`, in config order.
fn pins(inputs: &[InputConfig]) -> Vec<u8> {
    inputs.iter().map(|i| i.pin).collect()
}

#[cfg(test)]
mod tests;
