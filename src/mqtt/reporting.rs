//! The stats message, the publisher's side: every `stats.interval_s` a report of the interval
//! just ended is made and published once (QoS 1, not retained) while connected.
//!
//! Stats are current state: a report due while the broker is away is skipped, never spooled or
//! replayed, and one not yet handed to rumqttc is replaced by the next. Every tick starts a new
//! interval, published or not, so a report's rates always cover its own `interval_s`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rumqttc::QoS;
use tokio::time::{Interval, MissedTickBehavior};
use tracing::debug;

use super::session::Publisher;
use super::tracker::Tag;
use crate::procstat::{cpu_percent, ProcessProbe, ProcessSample};
use crate::stats::Snapshot;
use crate::wire::health::{stats_json, StatsReport};

/// The state of the stats reports between two ticks.
pub(crate) struct Reporter {
    run: u64,
    started: Instant,
    /// Start of the current interval, and the counters then.
    since: Instant,
    baseline: Snapshot,
    probe: ProcessProbe,
    process: ProcessSample,
    /// A report made but not yet handed to rumqttc.
    due: Option<String>,
}

impl Reporter {
    /// Reports for run `run`, counting from now with the counters of `baseline`.
    pub(crate) fn new(run: u64, baseline: Snapshot) -> Self {
        let probe = ProcessProbe::default();
        let process = probe.sample();
        if process.cpu.is_none() || process.rss_bytes.is_none() {
            debug!(
                ?process,
                "/proc/self unreadable here: stats have null CPU or RSS"
            );
        }
        let now = Instant::now();
        Reporter {
            run,
            started: now,
            since: now,
            baseline,
            probe,
            process,
            due: None,
        }
    }
}

/// A ticker whose first tick is one interval from now.
pub(crate) fn stats_ticker(interval_s: u64) -> Interval {
    let period = Duration::from_secs(interval_s.max(1));
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// The next tick of `ticker`; never, without one.
pub(crate) async fn stats_tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn utc_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Publisher {
    /// Ends the current interval: makes its report (kept for [`Self::pump_stats`] when
    /// connected, skipped otherwise) and starts the next one.
    pub(crate) fn report_stats(&mut self) {
        let Some(r) = self.reporter.as_mut() else {
            return;
        };
        let now = Instant::now();
        let after = self.stats.snapshot();
        let process = r.probe.sample();
        let elapsed = now.saturating_duration_since(r.since);
        let latency = &self.tracker.latency;
        let latency_ms = latency
            .quantile_us(0.5)
            .zip(latency.quantile_us(0.99))
            .map(|(p50, p99)| (p50 / 1000.0, p99 / 1000.0));
        let pins: Vec<u8> = self.known.keys().copied().collect();
        let payload = stats_json(&StatsReport {
            device: &self.device,
            run: r.run,
            t_us: utc_us(),
            uptime: now.saturating_duration_since(r.started),
            before: &r.baseline,
            after: &after,
            elapsed,
            pins: &pins,
            latency_ms,
            cpu_percent: cpu_percent(&r.process, &process, elapsed),
            rss_bytes: process.rss_bytes,
        });
        r.due = self.connected.then_some(payload);
        r.since = now;
        r.baseline = after;
        r.process = process;
        self.tracker.latency.clear();
    }

    /// Hands the due report to rumqttc: `None` when none is due, `Some(false)` when the request
    /// channel is full (it stays due).
    pub(crate) fn pump_stats(&mut self) -> Option<bool> {
        let r = self.reporter.as_mut()?;
        let payload = r.due.as_ref()?.clone();
        let res = self
            .client
            .try_publish(self.topics.stats(), QoS::AtLeastOnce, false, payload);
        if res.is_err() {
            return Some(false);
        }
        r.due = None;
        self.tracker.submitted(Tag::Control);
        Some(true)
    }
}
