//! The batcher: groups filtered edges into numbered batches, closed by count or by age.

use super::{Edge, Gap, PinLevel};
use std::time::{Duration, Instant};

/// Edges published in one MQTT message, numbered by `seq` within a `run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Random id chosen at process start; `seq` restarts at 0 with every run.
    pub run: u64,
    /// 0, 1, 2, … within the run, never skipping a number.
    pub seq: u64,
    /// Edges in the order they were released by the filters (time order per pin).
    pub edges: Vec<Edge>,
    /// Sample gaps (overruns, restarts) that happened while this batch was open.
    pub gaps: Vec<Gap>,
    /// Level of every watched pin after the last edge of the batch.
    pub levels: Vec<PinLevel>,
}

/// Collects edges and closes a batch at `max_edges` or when its first entry is `max_age` old.
#[derive(Debug)]
pub struct Batcher {
    run: u64,
    next_seq: u64,
    max_edges: usize,
    max_age: Duration,
    edges: Vec<Edge>,
    gaps: Vec<Gap>,
    opened: Option<Instant>,
}

/// Stand-in so the crate compiles until the batcher lands.
impl Batcher {
    /// A batcher for `run` that closes batches at `max_edges` edges or `max_age` age.
    pub fn new(run: u64, max_edges: usize, max_age: Duration) -> Self {
        Batcher {
            run,
            next_seq: 0,
            max_edges: max_edges.max(1),
            max_age,
            edges: Vec::new(),
            gaps: Vec::new(),
            opened: None,
        }
    }
}
