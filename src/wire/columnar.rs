//! The columnar JSON of an edge batch (`batch.format = "columnar"`, schema `"v":2`):
//!
//! ```json
//! {"v":2,"device":"pi-01","run":123,"seq":0,"t0_us":1764040000123456,
//!  "pins":[{"pin":17,"level":1,"dt_us":[0]},
//!          {"pin":18,"level":0,"dt_us":[120,500,500,500],"after_gap":[2]}],
//!  "gaps":[{"from_us":1,"to_us":2,"samples":3}],
//!  "rate_limited":[{"pin":18,"edges":12345}]}
//! ```
//!
//! A pin's edges alternate (a level change is followed by the opposite one), so a batch writes
//! them as runs: `pin`, the `level` of the run's first edge, then one time delta per edge; the
//! levels of the following edges alternate. `dt_us[0]` counts from `t0_us` (the batch's
//! earliest edge), each next one from the edge before it in the run. A pin has one run per
//! batch unless an edge repeats the level before it (edges dropped by a rate limit or lost by
//! an edge source): then a new run starts there. Runs come in pin order, a pin's edges in the
//! order they were released (time order). `after_gap` (present when non-empty) lists indices
//! into the run of edges whose change happened during a gap. `gaps` and `rate_limited` are
//! written as in the object format. On the demo signal an edge costs its delta's digits and a
//! comma (~4 bytes) instead of ~46.

use serde::de::Error as _;
use serde::Deserialize;

use super::batch_json::{push_header, push_tail, push_u64, BatchPayload};
use crate::edges::batch::Batch;
use crate::edges::{Edge, Gap, RateLimited};

/// Schema version of the columnar format, written as `"v"`.
pub const COLUMNAR_VERSION: u32 = 2;

/// Writes the columnar JSON of `batch` published by `device` into `buf` (cleared first).
pub(super) fn encode(buf: &mut Vec<u8>, device: &str, batch: &Batch) {
    buf.clear();
    buf.reserve(
        160 + device.len()
            + batch.edges.len() * 8
            + batch.gaps.len() * 80
            + batch.rate_limited.len() * 40,
    );
    push_header(buf, COLUMNAR_VERSION, device, batch);
    let edges = &batch.edges;
    let t0 = edges.iter().map(|e| e.t_us).min().unwrap_or(0);
    buf.extend_from_slice(b",\"t0_us\":");
    push_u64(buf, t0);
    buf.extend_from_slice(b",\"pins\":[");
    // Edge indices grouped by pin (a counting sort, stable: each pin's edges keep their order),
    // so runs are written in one pass; scanning the batch once per pin cost ~4× more.
    let mut first_of = [0u32; 257];
    for e in edges {
        first_of[usize::from(e.pin) + 1] += 1;
    }
    for p in 1..first_of.len() {
        first_of[p] += first_of[p - 1];
    }
    let mut order = vec![0u32; edges.len()];
    for (i, e) in edges.iter().enumerate() {
        let at = &mut first_of[usize::from(e.pin)];
        order[*at as usize] = i as u32;
        *at += 1;
    }
    let mut k = 0;
    while k < order.len() {
        let first = &edges[order[k] as usize];
        if k > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"pin\":");
        push_u64(buf, u64::from(first.pin));
        buf.extend_from_slice(b",\"level\":");
        push_u64(buf, u64::from(first.level));
        buf.extend_from_slice(b",\"dt_us\":[");
        push_u64(buf, first.t_us - t0);
        let (mut prev, mut flagged) = (first, first.after_gap);
        let start = k;
        k += 1;
        while let Some(&i) = order.get(k) {
            let e = &edges[i as usize];
            if e.pin != prev.pin || prev.level > 1 || e.level != 1 - prev.level {
                break; // another pin, or the level repeats: a new run
            }
            buf.push(b',');
            push_delta(buf, e.t_us, prev.t_us);
            flagged |= e.after_gap;
            prev = e;
            k += 1;
        }
        buf.push(b']');
        if flagged {
            buf.extend_from_slice(b",\"after_gap\":[");
            let run = order[start..k].iter().map(|&i| &edges[i as usize]);
            let mut comma = false;
            for (n, _) in run.enumerate().filter(|(_, e)| e.after_gap) {
                if std::mem::replace(&mut comma, true) {
                    buf.push(b',');
                }
                push_u64(buf, n as u64);
            }
            buf.push(b']');
        }
        buf.push(b'}');
    }
    buf.push(b']');
    push_tail(buf, batch);
}

/// Writes `t - prev`, negative when `t` is earlier (never on a pin's own time-ordered edges).
fn push_delta(buf: &mut Vec<u8>, t: u64, prev: u64) {
    if t >= prev {
        push_u64(buf, t - prev);
    } else {
        buf.push(b'-');
        push_u64(buf, prev - t);
    }
}

/// The columnar JSON as serde reads it.
#[derive(Deserialize)]
struct Columnar {
    v: u32,
    device: String,
    run: u64,
    seq: u64,
    t0_us: u64,
    pins: Vec<Run>,
    #[serde(default)]
    gaps: Vec<Gap>,
    #[serde(default)]
    rate_limited: Vec<RateLimited>,
}

/// One run of a pin's alternating edges.
#[derive(Deserialize)]
struct Run {
    pin: u8,
    level: u8,
    dt_us: Vec<i128>,
    #[serde(default)]
    after_gap: Vec<usize>,
}

/// Parses the columnar JSON of an edge batch; its edges come pin by pin, each pin's in order.
pub(super) fn decode(bytes: &[u8]) -> Result<BatchPayload, serde_json::Error> {
    let c: Columnar = serde_json::from_slice(bytes)?;
    let mut edges = Vec::new();
    for r in &c.pins {
        let start = edges.len();
        let mut t = i128::from(c.t0_us);
        for (k, dt) in r.dt_us.iter().enumerate() {
            t += dt;
            let t_us = u64::try_from(t).map_err(|_| {
                serde_json::Error::custom(format!("pin {}: dt_us[{k}] leaves the u64 range", r.pin))
            })?;
            let level = if k % 2 == 0 {
                r.level
            } else {
                1 - r.level.min(1)
            };
            edges.push(Edge {
                pin: r.pin,
                level,
                t_us,
                after_gap: false,
            });
        }
        for &k in &r.after_gap {
            let e = edges.get_mut(start + k).filter(|_| k < r.dt_us.len());
            e.ok_or_else(|| {
                serde_json::Error::custom(format!(
                    "pin {}: after_gap index {k} out of the run",
                    r.pin
                ))
            })?
            .after_gap = true;
        }
    }
    Ok(BatchPayload {
        v: c.v,
        device: c.device,
        run: c.run,
        seq: c.seq,
        edges,
        gaps: c.gaps,
        rate_limited: c.rate_limited,
    })
}

#[cfg(test)]
#[path = "columnar_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "columnar_proptests.rs"]
mod proptests;
