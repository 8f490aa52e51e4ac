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

use serde::{Deserialize, Serialize};

use super::columnar::COLUMNAR_VERSION;
use crate::edges::batch::{Batch, BatchFormat};
use crate::edges::{Edge, Gap, RateLimited};

/// Schema version of the object format, written as `"v"`.
pub const SCHEMA_VERSION: u32 = 1;

/// A decoded edge batch, as a consumer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPayload {
    /// Schema version: `1` (objects) or `2` (columnar).
    pub v: u32,
    /// Device id of the publisher.
    pub device: String,
    /// Random id of the publisher's run.
    pub run: u64,
    /// Sequence number within the run.
    pub seq: u64,
    /// Edges in release order.
    pub edges: Vec<Edge>,
    /// Sample gaps; absent in the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// Edges dropped by the per-pin rate limits; absent in the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limited: Vec<RateLimited>,
}

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

/// Writes `{"v":…,"device":…,"run":…,"seq":…` (no closing brace).
pub(super) fn push_header(buf: &mut Vec<u8>, v: u32, device: &str, batch: &Batch) {
    buf.extend_from_slice(b"{\"v\":");
    push_u64(buf, u64::from(v));
    buf.extend_from_slice(b",\"device\":");
    push_json_str(buf, device);
    buf.extend_from_slice(b",\"run\":");
    push_u64(buf, batch.run);
    buf.extend_from_slice(b",\"seq\":");
    push_u64(buf, batch.seq);
}

/// Writes `gaps` and `rate_limited` when non-empty, and the closing brace: the same in every
/// format, so a consumer reads them with the same code.
pub(super) fn push_tail(buf: &mut Vec<u8>, batch: &Batch) {
    if !batch.gaps.is_empty() {
        buf.extend_from_slice(b",\"gaps\":[");
        for (i, g) in batch.gaps.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"from_us\":");
            push_u64(buf, g.from_us);
            buf.extend_from_slice(b",\"to_us\":");
            push_u64(buf, g.to_us);
            buf.extend_from_slice(b",\"samples\":");
            push_u64(buf, g.samples);
            // Edges an edge source (the GPIO character device) lost: the consumer's only way
            // to know how much it missed, since such a gap has no samples.
            if g.edges > 0 {
                buf.extend_from_slice(b",\"edges\":");
                push_u64(buf, g.edges);
            }
            buf.push(b'}');
        }
        buf.push(b']');
    }
    if !batch.rate_limited.is_empty() {
        buf.extend_from_slice(b",\"rate_limited\":[");
        for (i, r) in batch.rate_limited.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"pin\":");
            push_u64(buf, u64::from(r.pin));
            buf.extend_from_slice(b",\"edges\":");
            push_u64(buf, r.edges);
            buf.push(b'}');
        }
        buf.push(b']');
    }
    buf.push(b'}');
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

/// Appends the decimal digits of `n` (itoa: two digits per step from a table, several times
/// faster than dividing by ten per digit; every edge's time is 16 digits).
pub(super) fn push_u64(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends `s` as a JSON string literal. The device id is validated upstream, but escaping here
/// keeps the payload valid JSON whatever reaches this function.
pub(super) fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            0x00..=0x1f => {
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 0xf)]);
            }
            // Multi-byte UTF-8 sequences are copied as is: JSON allows them unescaped.
            _ => buf.push(b),
        }
    }
    buf.push(b'"');
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
