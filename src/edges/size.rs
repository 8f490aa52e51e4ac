//! How a batch is written on the wire, and an upper bound of its encoded size the batcher keeps
//! while the batch fills, so it closes a batch before the encoding passes `batch.max_bytes`.
//!
//! The encoders live in `wire`; the bounds live here, beside the batcher that needs them, and
//! `wire`'s tests check every encoding against them. Both formats are JSON:
//!
//! * `json`: one object per edge (`{"pin":17,"level":1,"t_us":…}`), ≤ [`EDGE_MAX_BYTES`] each.
//! * `columnar`: edges grouped per pin into runs of alternating levels, each run a list of time
//!   deltas (`{"pin":18,"level":1,"dt_us":[120,500,500]}`); an edge costs the digits of its
//!   delta to the previous edge of its run, plus [`RUN_MAX_BYTES`] when it starts a run.

use serde::{Deserialize, Serialize};

use super::{Edge, MAX_PIN};

/// The payload format of edge batches (`batch.format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchFormat {
    /// One JSON object per edge (schema `"v":1`).
    #[default]
    Json,
    /// One JSON array of time deltas per run of a pin's edges (schema `"v":2`).
    Columnar,
}

impl BatchFormat {
    /// The name used in the config.
    pub fn name(self) -> &'static str {
        match self {
            BatchFormat::Json => "json",
            BatchFormat::Columnar => "columnar",
        }
    }
}

/// Most bytes the JSON of a batch takes besides its entries (`v`, `device` of ≤ 64 characters
/// that need no escaping, `run`, `seq`, `t0_us`, the brackets of the three lists), rounded up.
pub const HEADER_MAX_BYTES: usize = 256;
/// Most bytes one edge takes in the `json` format (`{"pin":63,"level":1,"t_us":<20 digits>,
/// "after_gap":true},`).
pub const EDGE_MAX_BYTES: usize = 66;
/// Most bytes one gap takes in either format (four u64 and their keys: `edges` when an edge
/// source lost edges).
pub const GAP_MAX_BYTES: usize = 122;
/// Most bytes one rate-limit marker takes in either format.
pub const RATE_LIMITED_MAX_BYTES: usize = 40;
/// Most bytes a run of the `columnar` format takes besides its deltas and `after_gap` indices
/// (`{"pin":255,"level":255,"dt_us":[],"after_gap":[]},`), with its first delta, which is
/// counted from the batch's `t0_us` (≤ 20 digits and a comma): `t0_us` is the batch's earliest
/// edge, which a later edge of another pin may still move back.
pub const RUN_MAX_BYTES: usize = 51 + 21;

/// Decimal digits of `n` (the common small deltas in two or three compares).
pub fn digits(n: u64) -> usize {
    match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => n.ilog10() as usize + 1,
    }
}

/// Upper bound of the encoded size of the open batch, in its format.
#[derive(Debug, Clone)]
pub struct SizeBound {
    format: BatchFormat,
    bytes: usize,
    /// Columnar: time and level of the last edge of each pin's current run in the open batch.
    runs: [Option<(u64, u8)>; MAX_PIN as usize + 1],
}

impl SizeBound {
    /// The bound of an empty batch in `format`.
    pub fn new(format: BatchFormat) -> Self {
        SizeBound {
            format,
            bytes: HEADER_MAX_BYTES,
            runs: [None; MAX_PIN as usize + 1],
        }
    }

    /// The format the bound is kept for.
    pub fn format(&self) -> BatchFormat {
        self.format
    }

    /// The bound so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The batch closed: back to an empty one.
    pub fn reset(&mut self) {
        self.bytes = HEADER_MAX_BYTES;
        if self.format == BatchFormat::Columnar {
            self.runs = [None; MAX_PIN as usize + 1];
        }
    }

    /// What `edge` would add to the batch, which holds `held` edges before it.
    pub fn edge_cost(&self, edge: &Edge, held: usize) -> usize {
        match self.format {
            BatchFormat::Json => EDGE_MAX_BYTES,
            BatchFormat::Columnar => {
                // An `after_gap` index is below the number of edges in the batch.
                let flag = if edge.after_gap {
                    digits(held as u64) + 1
                } else {
                    0
                };
                let run = self.runs.get(usize::from(edge.pin)).copied().flatten();
                match run {
                    Some((t, level)) if level <= 1 && edge.level == 1 - level => {
                        let dt = edge.t_us.abs_diff(t);
                        digits(dt) + usize::from(edge.t_us < t) + 1 + flag
                    }
                    _ => RUN_MAX_BYTES + flag,
                }
            }
        }
    }

    /// Counts `edge` at `cost`, what [`Self::edge_cost`] gave for it (computed once per edge:
    /// the batcher needs it before deciding to take the edge).
    pub fn add_edge(&mut self, edge: &Edge, cost: usize) {
        self.bytes += cost;
        if let Some(slot) = self.runs.get_mut(usize::from(edge.pin)) {
            *slot = Some((edge.t_us, edge.level));
        }
    }

    /// Counts one gap.
    pub fn add_gap(&mut self) {
        self.bytes += GAP_MAX_BYTES;
    }

    /// Counts one rate-limit marker.
    pub fn add_rate_limited(&mut self) {
        self.bytes += RATE_LIMITED_MAX_BYTES;
    }
}

#[cfg(test)]
#[path = "size_tests.rs"]
mod tests;
