//! Counters shared by the pipeline and the publisher; read by the live summary and the `stats`
//! message through [`Snapshot`]s and the [`Rates`] between two of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

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
    /// The same, per GPIO (index = pin): which input floods.
    pub rate_limited_per_pin: [AtomicU64; 64],
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
    /// Whether the spool works now, and why not (a gauge).
    pub spool_state: Mutex<SpoolHealth>,
    /// Times [`Stats::spool_state`] changed: lets the link notice a change (and re-announce
    /// `info`) with one relaxed load instead of a lock per publish.
    pub spool_state_changes: AtomicU64,
    /// Samples lost to gaps (overruns, restarts).
    pub samples_lost: AtomicU64,
    /// Edges lost to gaps (an edge source's event buffer overflowed).
    pub edges_lost: AtomicU64,
    /// Times the DMA channel stopped by itself and was restarted.
    pub dma_restarts: AtomicU64,
    /// Times the consumer was lapped by the DMA engine (samples overwritten).
    pub overruns: AtomicU64,
    /// DMA blocks that took longer than their samples × the period (engine too slow).
    pub dma_late_blocks: AtomicU64,
    /// Times the DMA engine made no progress (pacing lost) and was restarted.
    pub dma_stalls: AtomicU64,
    /// Successful (re)connections to the broker.
    pub connects: AtomicU64,
    /// Connection attempts that failed or connections that dropped.
    pub connection_errors: AtomicU64,
    /// Connection attempts that failed in TLS (certificate, name, handshake).
    pub connect_failures_tls: AtomicU64,
    /// Connection attempts the broker refused at login (bad credentials, not authorized).
    pub connect_failures_auth: AtomicU64,
    /// Accepted config patches that could not be written to `state_dir` (lost at a restart).
    pub patches_not_persisted: AtomicU64,
    /// `config/set` messages refused for their size (read, discarded, answered).
    pub patches_oversize: AtomicU64,
    /// Connections closed shortly after CONNACK, repeatedly: probably another client with this `device_id`.
    pub takeovers_suspected: AtomicU64,
    /// Publishes the broker refused with an MQTT 5 reason code (not sent), by
    /// [`REJECTION_REASONS`].
    pub rejected_by_broker: [AtomicU64; REJECTION_REASONS.len()],
}

/// The reasons a broker refuses a publish with (MQTT 5 PUBACK reason codes), as the keys of
/// `rejected_by_broker` in `stats`.
pub const REJECTION_REASONS: [&str; 6] = [
    "not_authorized",
    "packet_too_large",
    "quota_exceeded",
    "topic_name_invalid",
    "payload_format_invalid",
    "other",
];

impl Default for Stats {
    fn default() -> Self {
        Stats {
            samples: AtomicU64::new(0),
            edges_per_pin: std::array::from_fn(|_| AtomicU64::new(0)),
            batches_closed: AtomicU64::new(0),
            batches_sent: AtomicU64::new(0),
            batches_dropped: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            rate_limited_per_pin: std::array::from_fn(|_| AtomicU64::new(0)),
            batches_spooled: AtomicU64::new(0),
            batches_replayed: AtomicU64::new(0),
            spool_dropped: AtomicU64::new(0),
            spool_errors: AtomicU64::new(0),
            spool_torn: AtomicU64::new(0),
            spool_bytes: AtomicU64::new(0),
            spool_pending: AtomicU64::new(0),
            spool_state: Mutex::new(SpoolHealth::default()),
            spool_state_changes: AtomicU64::new(0),
            samples_lost: AtomicU64::new(0),
            edges_lost: AtomicU64::new(0),
            dma_restarts: AtomicU64::new(0),
            overruns: AtomicU64::new(0),
            dma_late_blocks: AtomicU64::new(0),
            dma_stalls: AtomicU64::new(0),
            connects: AtomicU64::new(0),
            connection_errors: AtomicU64::new(0),
            connect_failures_tls: AtomicU64::new(0),
            connect_failures_auth: AtomicU64::new(0),
            patches_not_persisted: AtomicU64::new(0),
            patches_oversize: AtomicU64::new(0),
            takeovers_suspected: AtomicU64::new(0),
            rejected_by_broker: std::array::from_fn(|_| AtomicU64::new(0)),
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

    /// The spool's state now.
    pub fn spool_health(&self) -> SpoolHealth {
        // A panic while holding this lock cannot leave a half-written value: take it as is.
        self.spool_state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sets the spool's state (and its reason; empty when `ok` or `off` needs none).
    pub fn set_spool_health(&self, state: SpoolState, reason: impl Into<String>) {
        let reason = reason.into();
        let mut h = self.spool_state.lock().unwrap_or_else(|e| e.into_inner());
        if h.state != state || h.reason != reason {
            h.state = state;
            h.reason = reason;
            Stats::add(&self.spool_state_changes, 1);
        }
    }

    /// Every counter now. Not atomic as a whole (each counter is read on its own), which is
    /// fine for rates: a count missed by one snapshot shows up in the next.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            samples: Stats::get(&self.samples),
            edges_per_pin: std::array::from_fn(|i| Stats::get(&self.edges_per_pin[i])),
            batches_closed: Stats::get(&self.batches_closed),
            batches_sent: Stats::get(&self.batches_sent),
            batches_dropped: Stats::get(&self.batches_dropped),
            rate_limited: Stats::get(&self.rate_limited),
            rate_limited_per_pin: std::array::from_fn(|i| {
                Stats::get(&self.rate_limited_per_pin[i])
            }),
            batches_spooled: Stats::get(&self.batches_spooled),
            batches_replayed: Stats::get(&self.batches_replayed),
            spool_dropped: Stats::get(&self.spool_dropped),
            spool_errors: Stats::get(&self.spool_errors),
            spool_torn: Stats::get(&self.spool_torn),
            spool_bytes: Stats::get(&self.spool_bytes),
            spool_pending: Stats::get(&self.spool_pending),
            spool_state: self.spool_health(),
            samples_lost: Stats::get(&self.samples_lost),
            edges_lost: Stats::get(&self.edges_lost),
            dma_restarts: Stats::get(&self.dma_restarts),
            overruns: Stats::get(&self.overruns),
            dma_late_blocks: Stats::get(&self.dma_late_blocks),
            dma_stalls: Stats::get(&self.dma_stalls),
            connects: Stats::get(&self.connects),
            connection_errors: Stats::get(&self.connection_errors),
            connect_failures_tls: Stats::get(&self.connect_failures_tls),
            connect_failures_auth: Stats::get(&self.connect_failures_auth),
            patches_not_persisted: Stats::get(&self.patches_not_persisted),
            patches_oversize: Stats::get(&self.patches_oversize),
            takeovers_suspected: Stats::get(&self.takeovers_suspected),
            rejected_by_broker: std::array::from_fn(|i| Stats::get(&self.rejected_by_broker[i])),
        }
    }
}

/// Whether the spool stores batches: `stats` and `info` report it, so a spool that cannot be
/// opened is not mistaken for a healthy empty one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpoolState {
    /// Open and writing.
    Ok,
    /// Wanted but not working: it cannot be opened (retried with backoff) or writes fail.
    Degraded,
    /// No spool: `spool.enabled = false` (or no `state_dir` for this publisher).
    #[default]
    Off,
}

impl SpoolState {
    /// The name in `stats` and `info`: `ok`, `degraded` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpoolState::Ok => "ok",
            SpoolState::Degraded => "degraded",
            SpoolState::Off => "off",
        }
    }
}

/// The spool's state and, when not `ok`, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolHealth {
    /// The state.
    pub state: SpoolState,
    /// Why it is in that state (empty when `ok`).
    pub reason: String,
}

impl Default for SpoolHealth {
    fn default() -> Self {
        SpoolHealth {
            state: SpoolState::Off,
            reason: "spool.enabled = false".into(),
        }
    }
}

/// The values of every [`Stats`] counter at one moment (same names and meanings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// [`Stats::samples`].
    pub samples: u64,
    /// [`Stats::edges_per_pin`].
    pub edges_per_pin: [u64; 64],
    /// [`Stats::batches_closed`].
    pub batches_closed: u64,
    /// [`Stats::batches_sent`].
    pub batches_sent: u64,
    /// [`Stats::batches_dropped`] (queue full).
    pub batches_dropped: u64,
    /// [`Stats::rate_limited`].
    pub rate_limited: u64,
    /// [`Stats::rate_limited_per_pin`].
    pub rate_limited_per_pin: [u64; 64],
    /// [`Stats::batches_spooled`].
    pub batches_spooled: u64,
    /// [`Stats::batches_replayed`].
    pub batches_replayed: u64,
    /// [`Stats::spool_dropped`] (spool full).
    pub spool_dropped: u64,
    /// [`Stats::spool_errors`].
    pub spool_errors: u64,
    /// [`Stats::spool_torn`].
    pub spool_torn: u64,
    /// [`Stats::spool_bytes`] (a gauge).
    pub spool_bytes: u64,
    /// [`Stats::spool_pending`] (a gauge).
    pub spool_pending: u64,
    /// [`Stats::spool_state`].
    pub spool_state: SpoolHealth,
    /// [`Stats::samples_lost`].
    pub samples_lost: u64,
    /// [`Stats::edges_lost`].
    pub edges_lost: u64,
    /// [`Stats::dma_restarts`].
    pub dma_restarts: u64,
    /// [`Stats::overruns`].
    pub overruns: u64,
    /// [`Stats::dma_late_blocks`].
    pub dma_late_blocks: u64,
    /// [`Stats::dma_stalls`].
    pub dma_stalls: u64,
    /// [`Stats::connects`].
    pub connects: u64,
    /// [`Stats::connection_errors`].
    pub connection_errors: u64,
    /// [`Stats::connect_failures_tls`].
    pub connect_failures_tls: u64,
    /// [`Stats::connect_failures_auth`].
    pub connect_failures_auth: u64,
    /// [`Stats::patches_not_persisted`].
    pub patches_not_persisted: u64,
    /// [`Stats::patches_oversize`].
    pub patches_oversize: u64,
    /// [`Stats::takeovers_suspected`].
    pub takeovers_suspected: u64,
    /// [`Stats::rejected_by_broker`].
    pub rejected_by_broker: [u64; REJECTION_REASONS.len()],
}

impl Default for Snapshot {
    fn default() -> Self {
        Stats::default().snapshot()
    }
}

impl Snapshot {
    /// Total edges over all pins.
    pub fn edges_total(&self) -> u64 {
        self.edges_per_pin.iter().sum()
    }
}

/// Per-second rates between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// Samples taken per second.
    pub samples_per_s: f64,
    /// Edges released by the filters per second, all pins.
    pub edges_per_s: f64,
    /// Edges per second, per GPIO (index = pin).
    pub edges_per_s_by_pin: [f64; 64],
}

impl Rates {
    /// The rates from `before` to `after`, `elapsed` apart: pass the time actually elapsed, not
    /// the nominal interval, so a late tick does not inflate them. A counter that went down
    /// (it never should) counts as 0; no time elapsed gives all zeros, never infinities.
    pub fn between(before: &Snapshot, after: &Snapshot, elapsed: Duration) -> Rates {
        let secs = elapsed.as_secs_f64();
        let per_s = |a: u64, b: u64| {
            if secs > 0.0 {
                b.saturating_sub(a) as f64 / secs
            } else {
                0.0
            }
        };
        let by_pin =
            std::array::from_fn(|i| per_s(before.edges_per_pin[i], after.edges_per_pin[i]));
        Rates {
            samples_per_s: per_s(before.samples, after.samples),
            edges_per_s: by_pin.iter().sum(),
            edges_per_s_by_pin: by_pin,
        }
    }

    /// Edges per second of `pin` (0 for a pin above 63).
    pub fn pin(&self, pin: u8) -> f64 {
        self.edges_per_s_by_pin
            .get(usize::from(pin))
            .copied()
            .unwrap_or(0.0)
    }
}

/// The live summary line a person sees in the terminal (`edgetap run --summary-every`): edges/s
/// of `pins`, then where batches went and what was dropped, from the totals in `now`.
pub fn summary_line(pins: &[u8], rates: &Rates, now: &Snapshot) -> String {
    use std::fmt::Write;
    let mut line = String::from("edges/s:");
    for &pin in pins {
        // Writing to a String cannot fail.
        let _ = write!(line, " gpio{pin}={:.1}", rates.pin(pin));
    }
    let dropped = now.batches_dropped + now.spool_dropped + now.spool_errors;
    let _ = write!(
        line,
        " | batches sent {} spooled {} dropped {} | rate-limited edges {} | broker connects {}",
        now.batches_sent, now.batches_spooled, dropped, now.rate_limited, now.connects,
    );
    line
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
