//! The seam between a source of edges and the filters: what one stretch of signal delivers.
//!
//! A sampler's blocks reach it through the decoder; a source that timestamps edges itself (the
//! Linux GPIO character device) fills it directly. Either way the filters and batches after it
//! see the same thing: raw edges, the gap before them, and the levels pins start at.

use super::{Edge, Gap, PinLevel};

/// Raw edges of one stretch of signal, with what a consumer must know besides them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeChunk {
    /// Levels of pins that start being reported with this chunk: every watched pin in the first
    /// chunk; later, pins whose level the source could not tell when they were added. State, not
    /// edges.
    pub initial: Option<Vec<PinLevel>>,
    /// Signal lost just before this chunk.
    pub gap: Option<Gap>,
    /// Raw (unfiltered) edges on watched pins, in time order; pin order within one instant.
    pub edges: Vec<Edge>,
    /// UTC µs up to which the source vouches for the signal (a sampler: its last sample): no
    /// watched pin changed after the last edge until then, so filters may advance to it.
    pub until_us: u64,
}

impl EdgeChunk {
    /// Empties the chunk, keeping its edge buffer for the next stretch.
    pub fn clear(&mut self) {
        self.initial = None;
        self.gap = None;
        self.edges.clear();
        self.until_us = 0;
    }
}
