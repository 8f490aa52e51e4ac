//! Publish latency percentiles over a stats interval, in bounded memory.
//!
//! A log-bucketed histogram of microseconds (the layout of HdrHistogram with 4 significant
//! bits): values below 16 µs have a bucket each; above, every power of two is split into 16
//! equal buckets. A percentile is reported as the middle of the bucket that holds it, so it is
//! within 1/32 (3.1 %) of the exact value — 3 µs at 100 µs, 0.3 ms at 10 ms. 976 buckets cover
//! all of `u64` µs: 3.9 KiB, fixed, whatever the publish rate; recording is O(1), a percentile
//! one pass over the buckets.

use std::time::Duration;

/// Buckets per power of two (and the number of exact buckets below the first split octave).
const SUB: u64 = 16;
/// log2([`SUB`]).
const SUB_BITS: u32 = 4;
/// Exact buckets for 0..16, then 16 per octave for 2^4 … 2^63.
pub(crate) const BUCKETS: usize = (SUB + (64 - SUB_BITS as u64) * SUB) as usize;

/// Counts of latencies, by log bucket.
#[derive(Debug, Clone)]
pub(crate) struct LatencyHistogram {
    counts: Box<[u32]>,
    total: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
        }
    }
}

/// The bucket of `us`.
fn index(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let octave = 63 - us.leading_zeros(); // ≥ SUB_BITS
    let shift = octave - SUB_BITS;
    let sub = (us >> shift) - SUB; // 0..16: the 4 bits below the top one
    (SUB + u64::from(shift) * SUB + sub) as usize
}

/// The lowest value of bucket `i` and its width.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        return (i, 1);
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    ((SUB + sub) << shift, 1 << shift)
}

/// The value reported for bucket `i`: the middle of the values it holds.
fn representative(i: usize) -> f64 {
    let (low, width) = bounds(i);
    low as f64 + (width - 1) as f64 / 2.0
}

/// The 1-based rank of quantile `q` (0–1) among `n` values (nearest-rank method).
fn rank(q: f64, n: u64) -> u64 {
    ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).clamp(1, n)
}

impl LatencyHistogram {
    /// Counts one latency.
    pub(crate) fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let c = &mut self.counts[index(us)];
        *c = c.saturating_add(1);
        self.total += 1;
    }

    /// Latencies counted since the last [`clear`](Self::clear).
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.total
    }

    /// Forgets every latency (start of a new interval).
    pub(crate) fn clear(&mut self) {
        self.counts.fill(0);
        self.total = 0;
    }

    /// The `q` quantile (0–1, nearest rank) in µs; `None` when nothing was counted.
    pub(crate) fn quantile_us(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let want = rank(q, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= want {
                return Some(representative(i));
            }
        }
        // Only reachable if a saturated bucket undercounted: the top bucket in use.
        self.counts.iter().rposition(|&c| c > 0).map(representative)
    }
}

#[cfg(test)]
#[path = "latency_tests.rs"]
mod tests;
