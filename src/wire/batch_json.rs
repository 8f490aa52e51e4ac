//! What both batch formats share: the decoded batch a consumer sees, and the writers of the
//! header (`v`, `device`, `run`, `seq`) and the tail (`gaps`, `rate_limited`), so the two
//! encoders write those parts byte for byte alike.

use serde::{Deserialize, Serialize};

use crate::edges::batch::Batch;
use crate::edges::{Edge, Gap, RateLimited};

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
