//! The object-format (`"v":1`) batch as a subscriber reads it, shared by the end-to-end tests that
//! compare published edges with a capture.

use serde::Deserialize;

/// One published edge.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
pub struct Edge {
    /// The BCM pin number.
    pub pin: u8,
    /// The level after the change (0 or 1).
    pub level: u8,
    /// The edge's time, µs since the epoch.
    pub t_us: u64,
}

/// One batch on `edgetap/<id>/edges`, with the fields the end-to-end checks read.
#[derive(Debug, Deserialize)]
pub struct Batch {
    /// The payload's schema version.
    pub v: u32,
    /// The publishing device's id.
    pub device: String,
    /// The agent run the batch belongs to.
    pub run: u64,
    /// The batch's number within its run.
    pub seq: u64,
    /// The edges, in order.
    pub edges: Vec<Edge>,
}
