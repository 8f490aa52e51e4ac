//! The state of the connection to the broker over drops and reconnects: whether the broker
//! accepted it, how long it has been down and after how many failed attempts (for the logs),
//! and how far a clean close got (`offline` accepted, DISCONNECT written).

use std::time::{Duration, Instant};

use tracing::{debug, error, info, warn};

use super::failure::{self, FailureKind};
use crate::stats::Stats;

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

    /// The connection is given up without an event at `now` (a new client replaces it).
    pub(crate) fn left(&mut self, now: Instant) {
        self.connected = false;
        self.disconnect_sent = false;
        self.down_since = Some(now);
        self.failures = 0;
    }
}
