//! The state of the connection to the broker over drops and reconnects: whether the broker
//! accepted it, how long it has been down and after how many failed attempts (for the logs),
//! and how far a clean close got (`offline` accepted, DISCONNECT written).

use std::time::{Duration, Instant};

use tracing::{debug, error, info, warn};

use super::failure::{self, FailureKind};
use crate::stats::Stats;

/// A connection closed this soon after CONNACK counts as short-lived.
pub(crate) const SHORT_LIVED: Duration = Duration::from_secs(5);
/// This many short-lived connections in a row look like another client taking the session over
/// (two devices with the same `device_id`, e.g. a cloned SD card), or a broker refusing what
/// the device sends.
pub(crate) const TAKEOVER_STREAK: u32 = 3;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Session {
    /// `host:port`, for the logs.
    pub(crate) broker: String,
    /// Whether the broker accepted the current connection.
    pub(crate) connected: bool,
    /// Failed attempts since the last successful connection.
    failures: u32,
    down_since: Option<Instant>,
    /// The retained `offline` of a clean close was accepted.
    pub(crate) offline_accepted: bool,
    /// rumqttc wrote the DISCONNECT of a clean close.
    pub(crate) disconnect_sent: bool,
    /// When the broker accepted the current connection.
    up_since: Option<Instant>,
    /// Short-lived connections in a row.
    short_streak: u32,
}

impl Session {
    /// Not connected yet to `broker`, down since `now`.
    pub(crate) fn new(broker: String, now: Instant) -> Self {
        Session {
            broker,
            connected: false,
            failures: 0,
            down_since: Some(now),
            offline_accepted: false,
            disconnect_sent: false,
            up_since: None,
            short_streak: 0,
        }
    }

    /// The broker accepted a connection at `now`.
    pub(crate) fn connected(&mut self, stats: &Stats, now: Instant) {
        Stats::add(&stats.connects, 1);
        let down_for = self
            .down_since
            .take()
            .map(|t| now.saturating_duration_since(t))
            .unwrap_or_default();
        if self.failures > 0 {
            info!(
                broker = %self.broker,
                failed_attempts = self.failures,
                ?down_for,
                "connected to MQTT broker"
            );
        } else {
            info!(broker = %self.broker, "connected to MQTT broker");
        }
        self.failures = 0;
        self.connected = true;
        self.up_since = Some(now);
    }

    /// A connection attempt failed or the connection dropped at `now`; the next attempt is in
    /// `retry_in`.
    pub(crate) fn lost(
        &mut self,
        error: &rumqttc::ConnectionError,
        retry_in: Duration,
        stats: &Stats,
        now: Instant,
    ) {
        Stats::add(&stats.connection_errors, 1);
        if let Some(up) = self.up_since.take() {
            self.ended_after(now.saturating_duration_since(up), stats);
        }
        let kind = failure::kind(error);
        match kind {
            FailureKind::Tls => Stats::add(&stats.connect_failures_tls, 1),
            FailureKind::Auth => Stats::add(&stats.connect_failures_auth, 1),
            FailureKind::Other => {}
        }
        if kind != FailureKind::Other {
            // Retrying will not fix it: every attempt says why, at the backoff's pace.
            error!(broker = %self.broker, %error, ?retry_in, attempt = self.failures + 1,
                "cannot connect to MQTT broker: {}", failure::advice(kind, error));
        } else if self.connected {
            self.down_since = Some(now);
            warn!(broker = %self.broker, %error, ?retry_in, "connection to MQTT broker lost; reconnecting");
        } else if self.failures == 0 {
            warn!(broker = %self.broker, %error, ?retry_in, "cannot connect to MQTT broker; retrying with backoff");
        } else {
            debug!(broker = %self.broker, %error, ?retry_in, attempt = self.failures + 1, "connect attempt failed");
        }
        self.failures += 1;
        self.connected = false;
    }

    /// An accepted connection dropped after `up`: a streak of short-lived ones is reported as
    /// a probable duplicate `device_id` (logged, counted in `takeovers_suspected`).
    fn ended_after(&mut self, up: Duration, stats: &Stats) {
        if up >= SHORT_LIVED {
            self.short_streak = 0;
            return;
        }
        self.short_streak += 1;
        if self.short_streak == TAKEOVER_STREAK {
            Stats::add(&stats.takeovers_suspected, 1);
            warn!(broker = %self.broker, streak = self.short_streak, ?up,
                "the broker keeps closing the connection right after accepting it: probably \
                 another client with this device_id (a cloned SD card?) takes the session over, \
                 or the broker refuses what the device sends (see its log)");
            self.short_streak = 0;
        }
    }

    /// The connection is given up without an event at `now` (a new client replaces it).
    pub(crate) fn left(&mut self, now: Instant) {
        self.up_since = None;
        self.connected = false;
        self.disconnect_sent = false;
        self.down_since = Some(now);
        self.failures = 0;
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
