//! The stats message, the publisher's side: every `stats.interval_s` a report of the interval
//! just ended is made and published once (QoS 1, not retained) while connected.
//!
//! Stats are current state: a report due while the broker is away is skipped, never spooled or
//! replayed, and one not yet handed to rumqttc is replaced by the next. Every tick starts a new
//! interval, published or not, so a report's rates always cover its own `interval_s`.
//!
//! The reporter decides and formats; the shell reads the clocks and `/proc/self` and passes
//! what it measured in.

use std::time::Instant;

use crate::procstat::{cpu_percent, ProcessSample};
use crate::stats::Snapshot;
use crate::wire::{stats_json, StatsReport};

/// What the shell measured at the end of an interval.
pub(crate) struct Measured<'a> {
    /// Monotonic time now.
    pub now: Instant,
    /// UTC µs now.
    pub t_us: u64,
    /// The counters now.
    pub after: Snapshot,
    /// This process's CPU time and RSS now.
    pub process: ProcessSample,
    /// Publish latency p50 and p99 in ms over the interval, if any batch was accepted.
    pub latency_ms: Option<(f64, f64)>,
    /// Watched pins.
    pub pins: &'a [u8],
    /// Whether the broker is connected (a report made while not is skipped).
    pub connected: bool,
}

/// The state of the stats reports between two ticks.
pub(crate) struct Reporter {
    device: String,
    run: u64,
    started: Instant,
    /// Start of the current interval, and the counters and process sample then.
    since: Instant,
    baseline: Snapshot,
    process: ProcessSample,
    /// A report made but not yet handed to rumqttc.
    due: Option<String>,
}

impl Reporter {
    /// Reports of `device` for run `run`, counting from `now` with the counters of `baseline`
    /// and the process sample `process`.
    pub(crate) fn new(
        device: String,
        run: u64,
        baseline: Snapshot,
        process: ProcessSample,
        now: Instant,
    ) -> Self {
        Reporter {
            device,
            run,
            started: now,
            since: now,
            baseline,
            process,
            due: None,
        }
    }

    /// Ends the current interval: makes its report (kept for [`Reporter::due`] when
    /// connected, skipped otherwise) and starts the next one.
    pub(crate) fn report(&mut self, m: Measured<'_>) {
        let elapsed = m.now.saturating_duration_since(self.since);
        let payload = stats_json(&StatsReport {
            device: &self.device,
            run: self.run,
            t_us: m.t_us,
            uptime: m.now.saturating_duration_since(self.started),
            before: &self.baseline,
            after: &m.after,
            elapsed,
            pins: m.pins,
            latency_ms: m.latency_ms,
            cpu_percent: cpu_percent(&self.process, &m.process, elapsed),
            rss_bytes: m.process.rss_bytes,
        });
        self.due = m.connected.then_some(payload);
        self.since = m.now;
        self.baseline = m.after;
        self.process = m.process;
    }

    /// The report to publish, if one is due.
    pub(crate) fn due(&self) -> Option<&String> {
        self.due.as_ref()
    }

    /// The due report went out.
    pub(crate) fn sent(&mut self) {
        self.due = None;
    }
}
