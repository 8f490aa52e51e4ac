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

    /// Reads `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Total edges over all pins.
    pub fn edges_total(&self) -> u64 {
        self.edges_per_pin.iter().map(Stats::get).sum()
    }
}
