//! The JSON of an edge batch on `<prefix>/<id>/edges`:
//!
//! ```json
//! {"v":1,"device":"pi-01","run":123,"seq":0,
//!  "edges":[{"pin":17,"level":1,"t_us":1764040000123456},
//!           {"pin":18,"level":0,"t_us":1764040000200000,"after_gap":true}],
//!  "gaps":[{"from_us":1,"to_us":2,"samples":3,"edges":4}],
//!  "rate_limited":[{"pin":18,"edges":12345}]}
//! ```
//!
//! An edge's `after_gap` (present only when true) says its change happened during a gap of the
//! batch and is stamped at the first sample after it. `gaps` and `rate_limited` (edges dropped by
//! a pin's rate limit while the batch was open) are present only when non-empty; a gap's `edges`
//! (edges an edge source lost) only when not 0. With `batch.format = "columnar"` the edges are
//! written as [`super::columnar`] runs instead. Encoding writes straight into a caller-owned buffer
//! (no `serde_json::Value`, no per-edge allocation) because it runs for every batch; decoding
//! uses serde and is meant for tests and consumers.

use serde::Deserialize;

pub use super::batch_json::BatchPayload;
use super::batch_json::{push_header, push_tail, push_u64};
use super::columnar::COLUMNAR_VERSION;
use crate::edges::batch::{Batch, BatchFormat};

/// Schema version of the object format, written as `"v"`.
pub const SCHEMA_VERSION: u32 = 1;

/// Clears `buf` and writes the payload of `batch` published by `device` into it, in the
/// batch's format.
pub fn encode_batch(buf: &mut Vec<u8>, device: &str, batch: &Batch) {
    match batch.format {
        BatchFormat::Json => encode_objects(buf, device, batch),
        BatchFormat::Columnar => super::columnar::encode(buf, device, batch),
    }
}

/// Writes the object format (`"v":1`) of `batch` into `buf` (cleared first).
fn encode_objects(buf: &mut Vec<u8>, device: &str, batch: &Batch) {
    buf.clear();
    // ~40 bytes per edge; reserving up front avoids repeated growth on a fresh buffer.
    buf.reserve(
        64 + device.len()
            + batch.edges.len() * 48
            + batch.gaps.len() * 64
            + batch.rate_limited.len() * 40,
    );
    push_header(buf, SCHEMA_VERSION, device, batch);
    buf.extend_from_slice(b",\"edges\":[");
    for (i, e) in batch.edges.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"pin\":");
        push_u64(buf, u64::from(e.pin));
        buf.extend_from_slice(b",\"level\":");
        push_u64(buf, u64::from(e.level));
        buf.extend_from_slice(b",\"t_us\":");
        push_u64(buf, e.t_us);
        if e.after_gap {
            buf.extend_from_slice(b",\"after_gap\":true");
        }
        buf.push(b'}');
    }
    buf.push(b']');
    push_tail(buf, batch);
}

/// Parses an edge batch in either format, told apart by its `"v"`: the object format as is,
/// the columnar one with its edges pin by pin (each pin's in order).
pub fn decode_batch(bytes: &[u8]) -> Result<BatchPayload, serde_json::Error> {
    /// Only the schema version; serde skips the other keys.
    #[derive(Deserialize)]
    struct Version {
        v: u32,
    }
    match serde_json::from_slice::<Version>(bytes)?.v {
        COLUMNAR_VERSION => super::columnar::decode(bytes),
        _ => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
