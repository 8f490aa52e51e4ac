//! Sources that deliver edges rather than samples (the GPIO character device): they fill
//! [`EdgeChunk`]s themselves and join the pipeline after the decoder.

use crate::edges::{EdgeChunk, PinLevel};
use crate::hw::lineplan::LineSpec;
use crate::shutdown::Shutdown;

use super::{SamplerCounters, SamplerError};

/// A source of edge chunks.
pub trait EdgeSource: Send {
    /// Fills `chunk` (cleared first, its buffer reused) with what happened since the last
    /// call, waiting a short while for it. Returns `Ok(false)` once `shutdown` was triggered.
    fn next_chunk(
        &mut self,
        chunk: &mut EdgeChunk,
        shutdown: &Shutdown,
    ) -> Result<bool, SamplerError>;

    /// Watches `lines` from now on: flags alone change in place; a different set of lines is
    /// requested anew (added pins start with the next chunk's initial levels).
    fn rewatch(&mut self, lines: &[LineSpec]) -> Result<(), SamplerError>;

    /// Continues the signal of the source this one replaces: `levels` were reported already
    /// (not started again), and the signal was covered up to `until_us`. Call before the first
    /// chunk.
    fn take_over(&mut self, levels: &[PinLevel], until_us: Option<u64>);

    /// Lets go of the lines (a replacement is about to request them).
    fn release(&mut self);

    /// Requests the lines again after [`release`](Self::release) (the replacement failed).
    fn reacquire(&mut self) -> Result<(), SamplerError>;

    /// What is watched, for people and dashboards: the chip's label and path.
    fn model(&self) -> String;

    /// Trouble counted so far (`overruns`: event buffer overflows).
    fn counters(&self) -> SamplerCounters;
}

/// What a backend delivers: blocks of samples, or edges.
pub enum Source {
    /// A sampler: blocks go through the decoder.
    Blocks(Box<dyn super::Sampler>),
    /// An edge source: chunks go straight to the filters.
    Edges(Box<dyn EdgeSource>),
}

impl Source {
    /// The running source's [`Sampler::model`](super::Sampler::model) or
    /// [`EdgeSource::model`].
    pub fn model(&self) -> String {
        match self {
            Source::Blocks(s) => s.model(),
            Source::Edges(s) => s.model(),
        }
    }

    /// Trouble counted so far.
    pub fn counters(&self) -> SamplerCounters {
        match self {
            Source::Blocks(s) => s.counters(),
            Source::Edges(s) => s.counters(),
        }
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Blocks(s) => write!(f, "Blocks({})", s.model()),
            Source::Edges(s) => write!(f, "Edges({})", s.model()),
        }
    }
}
