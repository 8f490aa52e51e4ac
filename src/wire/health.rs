//! The JSON of the periodic `<prefix>/<id>/stats` message: one flat object (flat so Home
//! Assistant templates stay simple) with the rates over the interval just ended and the counters
//! as totals since start. Pure: built from two [`Snapshot`]s and what was measured between them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::stats::{Rates, Snapshot, REJECTION_REASONS};

/// Schema version of the stats payload.
pub const STATS_VERSION: u32 = 1;

/// Every key of the stats payload, in the order it is written.
pub const STATS_KEYS: &[&str] = &[
    "v",
    "device",
    "run",
    "t_us",
    "interval_s",
    "uptime_s",
    "samples_per_s",
    "edges_per_s",
    "edges_per_s_by_pin",
    "batches_sent",
    "batches_spooled",
    "batches_replayed",
    "dropped_queue_full",
    "dropped_spool_full",
    "dropped_spool_error",
    "rate_limited",
    "rate_limited_by_pin",
    "overruns",
    "samples_lost",
    "edges_lost",
    "dma_restarts",
    "dma_stalls",
    "dma_late_blocks",
    "connects",
    "reconnects",
    "connection_errors",
    "connect_failures_tls",
    "connect_failures_auth",
    "spool_bytes",
    "spool_pending",
    "spool_torn",
    "spool_state",
    "spool_state_reason",
    "patches_not_persisted",
    "patches_oversize",
    "takeovers_suspected",
    "rejected_by_broker",
    "publish_latency_ms_p50",
    "publish_latency_ms_p99",
    "cpu_percent",
    "rss_bytes",
];

/// What one stats message reports.
#[derive(Debug, Clone)]
pub struct StatsReport<'a> {
    /// `device_id`.
    pub device: &'a str,
    /// The run id of this process (as in the batches).
    pub run: u64,
    /// UTC µs when the report was made.
    pub t_us: u64,
    /// Time since the agent started.
    pub uptime: Duration,
    /// The counters at the start of the interval.
    pub before: &'a Snapshot,
    /// The counters now.
    pub after: &'a Snapshot,
    /// Time actually elapsed between the two snapshots.
    pub elapsed: Duration,
    /// Watched pins: each gets an `edges_per_s_by_pin` entry (as does any pin with edges in
    /// the interval, e.g. one removed during it).
    pub pins: &'a [u8],
    /// Publish latency p50 and p99 in ms; `None` when no live batch was accepted.
    pub latency_ms: Option<(f64, f64)>,
    /// CPU of this process over the interval, % of one core.
    pub cpu_percent: Option<f64>,
    /// Resident set size now.
    pub rss_bytes: Option<u64>,
}

/// The payload's shape; field order is the key order of [`STATS_KEYS`].
#[derive(Serialize)]
struct Payload<'a> {
    v: u32,
    device: &'a str,
    run: u64,
    t_us: u64,
    interval_s: f64,
    uptime_s: u64,
    samples_per_s: f64,
    edges_per_s: f64,
    edges_per_s_by_pin: BTreeMap<u8, f64>,
    batches_sent: u64,
    batches_spooled: u64,
    batches_replayed: u64,
    dropped_queue_full: u64,
    dropped_spool_full: u64,
    dropped_spool_error: u64,
    rate_limited: u64,
    rate_limited_by_pin: BTreeMap<u8, u64>,
    overruns: u64,
    samples_lost: u64,
    edges_lost: u64,
    dma_restarts: u64,
    dma_stalls: u64,
    dma_late_blocks: u64,
    connects: u64,
    reconnects: u64,
    connection_errors: u64,
    connect_failures_tls: u64,
    connect_failures_auth: u64,
    spool_bytes: u64,
    spool_pending: u64,
    spool_torn: u64,
    spool_state: &'a str,
    spool_state_reason: &'a str,
    patches_not_persisted: u64,
    patches_oversize: u64,
    takeovers_suspected: u64,
    rejected_by_broker: BTreeMap<&'static str, u64>,
    publish_latency_ms_p50: Option<f64>,
    publish_latency_ms_p99: Option<f64>,
    cpu_percent: Option<f64>,
    rss_bytes: Option<u64>,
}

/// Rounds to 0.001 (rates, seconds, ms, %): more digits would be noise.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The stats payload of `r`.
pub fn stats_json(r: &StatsReport<'_>) -> String {
    let rates = Rates::between(r.before, r.after, r.elapsed);
    let (a, b) = (r.after, r.before);
    let by_pin = (0..64u8)
        .filter(|&pin| {
            r.pins.contains(&pin)
                || a.edges_per_pin[usize::from(pin)] > b.edges_per_pin[usize::from(pin)]
        })
        .map(|pin| (pin, round3(rates.pin(pin))))
        .collect();
    let finite = |x: f64| x.is_finite().then(|| round3(x));
    let p = Payload {
        v: STATS_VERSION,
        device: r.device,
        run: r.run,
        t_us: r.t_us,
        interval_s: round3(r.elapsed.as_secs_f64()),
        uptime_s: r.uptime.as_secs(),
        samples_per_s: round3(rates.samples_per_s),
        edges_per_s: round3(rates.edges_per_s),
        edges_per_s_by_pin: by_pin,
        batches_sent: a.batches_sent,
        batches_spooled: a.batches_spooled,
        batches_replayed: a.batches_replayed,
        dropped_queue_full: a.batches_dropped,
        dropped_spool_full: a.spool_dropped,
        dropped_spool_error: a.spool_errors,
        rate_limited: a.rate_limited,
        rate_limited_by_pin: (0..64u8)
            .map(|pin| (pin, a.rate_limited_per_pin[usize::from(pin)]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        overruns: a.overruns,
        samples_lost: a.samples_lost,
        edges_lost: a.edges_lost,
        dma_restarts: a.dma_restarts,
        dma_stalls: a.dma_stalls,
        dma_late_blocks: a.dma_late_blocks,
        connects: a.connects,
        reconnects: a.connects.saturating_sub(1),
        connection_errors: a.connection_errors,
        connect_failures_tls: a.connect_failures_tls,
        connect_failures_auth: a.connect_failures_auth,
        spool_bytes: a.spool_bytes,
        spool_pending: a.spool_pending,
        spool_torn: a.spool_torn,
        spool_state: a.spool_state.state.as_str(),
        spool_state_reason: &a.spool_state.reason,
        patches_not_persisted: a.patches_not_persisted,
        patches_oversize: a.patches_oversize,
        takeovers_suspected: a.takeovers_suspected,
        rejected_by_broker: REJECTION_REASONS
            .iter()
            .copied()
            .zip(a.rejected_by_broker)
            .collect(),
        publish_latency_ms_p50: r.latency_ms.and_then(|l| finite(l.0)),
        publish_latency_ms_p99: r.latency_ms.and_then(|l| finite(l.1)),
        cpu_percent: r.cpu_percent.and_then(finite),
        rss_bytes: r.rss_bytes,
    };
    // Plain numbers, strings and maps with integer keys: serialising cannot fail.
    serde_json::to_string(&p).unwrap_or_default()
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
