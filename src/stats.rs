//! Counters shared by the pipeline and the publisher; read by the live summary and stats.

use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals since start. Relaxed atomics: each counter is independent.
#[derive(Debug)]
pub struct Stats {
    /// Samples taken by the sampler.
    pub samples: AtomicU64,
    /// Edges released by the filters, per GPIO (index = pin).
    pub edges_per_pin: [AtomicU64; 64],
    /// Batches closed by the batcher.
    pub batches_closed: AtomicU64,
    /// Batches the broker accepted (published, and acknowledged at QoS ≥ 1).
    pub batches_sent: AtomicU64,
    /// Batches dropped because the queue to the publisher was full.
    pub batches_dropped: AtomicU64,
    /// Edges dropped by the per-pin rate limit (`inputs[].max_edges_per_s`).
    pub rate_limited: AtomicU64,
    /// Batches written to the on-disk spool (broker unreachable or not acknowledging).
    pub batches_spooled: AtomicU64,
    /// Spooled batches the broker has since accepted.
    pub batches_replayed: AtomicU64,
    /// Batches dropped because the spool was full (`spool.policy`).
    pub spool_dropped: AtomicU64,
    /// Batches lost because the spool could not be written (disk full, I/O error).
    pub spool_errors: AtomicU64,
    /// Torn or corrupt records cut off when the spool was opened.
    pub spool_torn: AtomicU64,
    /// Bytes in the spool now (a gauge, not a total).
    pub spool_bytes: AtomicU64,
    /// Batches in the spool not yet acknowledged now (a gauge).
    pub spool_pending: AtomicU64,
    /// Samples lost to gaps (overruns, restarts).
    pub samples_lost: AtomicU64,
    /// Times the DMA channel stopped by itself and was restarted.
    pub dma_restarts: AtomicU64,
    /// Times the consumer was lapped by the DMA engine (samples overwritten).
    pub overruns: AtomicU64,
    /// Successful (re)connections to the broker.
    pub connects: AtomicU64,
    /// Connection attempts that failed or connections that dropped.
    pub connection_errors: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            samples: AtomicU64::new(0),
            edges_per_pin: std::array::from_fn(|_| AtomicU64::new(0)),
            batches_closed: AtomicU64::new(0),
            batches_sent: AtomicU64::new(0),
            batches_dropped: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            batches_spooled: AtomicU64::new(0),
            batches_replayed: AtomicU64::new(0),
            spool_dropped: AtomicU64::new(0),
            spool_errors: AtomicU64::new(0),
            spool_torn: AtomicU64::new(0),
            spool_bytes: AtomicU64::new(0),
            spool_pending: AtomicU64::new(0),
            samples_lost: AtomicU64::new(0),
            dma_restarts: AtomicU64::new(0),
            overruns: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            connection_errors: AtomicU64::new(0),
        }
    }
}

impl Stats {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets a gauge.
    pub fn set(gauge: &AtomicU64, v: u64) {
        gauge.store(v, Ordering::Relaxed);
    }

    /// Reads `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Total edges over all pins.
    pub fn edges_total(&self) -> u64 {
        self.edges_per_pin.iter().map(Stats::get).sum()
    }
}
