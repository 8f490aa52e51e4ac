//! Edges: what the decoder finds in samples, and what filters and batches carry.

pub mod batch;
pub mod chunk;
pub mod decode;
pub mod filter;
pub mod invert;
pub mod order;
pub mod size;

pub use chunk::EdgeChunk;

use serde::{Deserialize, Serialize};

/// Highest GPIO number on a BCM283x/BCM2711 (GPIO 0–53).
pub const MAX_PIN: u8 = 53;

/// A level change on one pin, stamped with the UTC time (µs) of the first sample showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge {
    /// GPIO number (BCM numbering).
    pub pin: u8,
    /// New level: 0 or 1.
    pub level: u8,
    /// UTC microseconds since the Unix epoch.
    pub t_us: u64,
    /// The change happened during a [`Gap`] before `t_us` (the sampler lost samples): its real
    /// time is unknown within the gap, so no interval ending at this edge is a measurement.
    /// Absent from JSON when false, so payloads without gaps are unchanged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub after_gap: bool,
}

/// For serde: an `after_gap` of false is not written.
fn is_false(b: &bool) -> bool {
    !*b
}

/// Samples that were lost between two blocks, so a consumer can tell a gap from silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// UTC µs of the last sample seen before the gap.
    pub from_us: u64,
    /// UTC µs of the first sample seen after the gap.
    pub to_us: u64,
    /// Number of samples that were never seen.
    pub samples: u64,
    /// Number of edges that were never seen: sources that deliver edges rather than samples
    /// (the GPIO character device) know this instead of `samples`. Absent from JSON when 0, so
    /// payloads of sampling sources are unchanged.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub edges: u64,
}

/// For serde: an `edges` count of 0 is not written.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Edges of one pin dropped by its rate limit (`inputs[].max_edges_per_s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimited {
    /// GPIO number (BCM numbering).
    pub pin: u8,
    /// Number of edges dropped.
    pub edges: u64,
}

/// The level of one pin at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinLevel {
    /// GPIO number (BCM numbering).
    pub pin: u8,
    /// Level: 0 or 1.
    pub level: u8,
}
