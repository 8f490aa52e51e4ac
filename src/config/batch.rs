//! The `[batch]` section: when batches are closed, and how many may wait for the broker.

use super::changeset::ChangeSet;
use super::error::Refusals;
use serde::{Deserialize, Serialize};

/// When batches are closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// A batch is sent as soon as it holds this many edges.
    pub max_edges: usize,
    /// A batch is sent at the latest this long after its first edge (ms).
    pub max_age_ms: u64,
    /// Batches waiting for the broker; beyond this the oldest are dropped and counted.
    pub queue_batches: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_edges: 512,
            max_age_ms: 10,
            queue_batches: 1024,
        }
    }
}

impl BatchConfig {
    /// Checks the section's rules.
    pub(super) fn validate(&self, r: &mut Refusals) {
        let b = self;
        r.check(
            (1..=65_536).contains(&b.max_edges),
            "batch.max_edges",
            format!("{} is out of range (1-65536)", b.max_edges),
        );
        r.check(
            (1..=60_000).contains(&b.max_age_ms),
            "batch.max_age_ms",
            format!("{} is out of range (1-60000 ms)", b.max_age_ms),
        );
        r.check(
            (1..=1_000_000).contains(&b.queue_batches),
            "batch.queue_batches",
            format!("{} is out of range (1-1000000)", b.queue_batches),
        );
    }

    /// What going from `self` to `new` means. Every key is named: a new one does not compile
    /// until its change is classified here.
    pub(super) fn classify(&self, new: &BatchConfig, c: &mut ChangeSet) {
        let BatchConfig {
            max_edges,
            max_age_ms,
            queue_batches,
        } = self;
        // The batcher takes new limits between two blocks, the queue a new capacity.
        c.batch_changed |= *max_edges != new.max_edges
            || *max_age_ms != new.max_age_ms
            || *queue_batches != new.queue_batches;
    }
}
