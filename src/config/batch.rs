//! The `[batch]` section: when batches are closed, how they are written, and how many may wait
//! for the broker.

use super::changeset::ChangeSet;
use super::error::Refusals;
use crate::edges::batch::BatchFormat;
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
    /// A batch is sent before its encoded JSON would pass this many bytes: keep it under the
    /// broker's message size limit (mosquitto `message_size_limit`, AWS IoT's 128 KB), which a
    /// broker may enforce by acknowledging and discarding (MQTT 3.1.1 cannot say so).
    pub max_bytes: usize,
    /// The payload format: `json` (one object per edge) or `columnar` (runs of time deltas).
    pub format: BatchFormat,
}

/// Smallest `batch.max_bytes`: a batch's header and one edge of every pin fit.
pub const MIN_BATCH_BYTES: usize = 1024;
/// Largest `batch.max_bytes`: below the largest packet the client sends (1 MiB).
pub const MAX_BATCH_BYTES: usize = 1_000_000;

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_edges: 512,
            max_age_ms: 10,
            queue_batches: 1024,
            max_bytes: 65_536,
            format: BatchFormat::Json,
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
        r.check(
            (MIN_BATCH_BYTES..=MAX_BATCH_BYTES).contains(&b.max_bytes),
            "batch.max_bytes",
            format!(
                "{} is out of range ({MIN_BATCH_BYTES}-{MAX_BATCH_BYTES} bytes)",
                b.max_bytes
            ),
        );
    }

    /// What going from `self` to `new` means. Every key is named: a new one does not compile
    /// until its change is classified here.
    pub(super) fn classify(&self, new: &BatchConfig, c: &mut ChangeSet) {
        let BatchConfig {
            max_edges,
            max_age_ms,
            queue_batches,
            max_bytes,
            format,
        } = self;
        // The batcher takes new limits (and a new format, closing the open batch in the old
        // one) between two blocks, the queue a new capacity.
        c.batch_changed |= *max_edges != new.max_edges
            || *max_age_ms != new.max_age_ms
            || *queue_batches != new.queue_batches
            || *max_bytes != new.max_bytes
            || *format != new.format;
    }
}
