//! The `[mqtt]` section: broker connection, topics, QoS and reconnecting.

use super::changeset::ChangeSet;
use super::error::Refusals;
use super::topic::prefix_problem;
use serde::{Deserialize, Serialize};

/// Broker connection and topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker host name or address.
    pub host: String,
    /// Broker TCP port.
    pub port: u16,
    /// First topic level of every topic edgetap publishes.
    pub topic_prefix: String,
    /// QoS of edge batches (0, 1 or 2).
    pub qos: u8,
    /// Start an in-process broker (rumqttd) listening on host:port.
    pub embedded_broker: bool,
    /// MQTT keep-alive (s).
    pub keep_alive_s: u64,
    /// Optional user name.
    pub username: Option<String>,
    /// Optional password (never logged).
    pub password: Option<String>,
    /// First reconnect delay (ms); doubles per failure up to `reconnect_max_ms`, with jitter.
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay (ms).
    pub reconnect_max_ms: u64,
    /// After a remote change of the connection, revert to the previous settings if the broker is
    /// not reached within this many seconds (5–3600).
    pub rollback_after_s: u64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".into(),
            port: 1883,
            topic_prefix: "edgetap".into(),
            qos: 1,
            embedded_broker: false,
            keep_alive_s: 30,
            username: None,
            password: None,
            reconnect_min_ms: 250,
            reconnect_max_ms: 30_000,
            rollback_after_s: 60,
        }
    }
}

impl MqttConfig {
    /// Checks the section's rules, except [`MqttConfig::validate_listener`].
    pub(super) fn validate(&self, r: &mut Refusals) {
        let m = self;
        r.check(!m.host.is_empty(), "mqtt.host", "must not be empty".into());
        r.check(m.port != 0, "mqtt.port", "0 is not a port".into());
        if let Some(why) = prefix_problem(&m.topic_prefix) {
            r.check(false, "mqtt.topic_prefix", why);
        }
        r.check(
            m.qos <= 2,
            "mqtt.qos",
            format!("{} is not a QoS (0, 1 or 2)", m.qos),
        );
        r.check(
            (5..=65_535).contains(&m.keep_alive_s),
            "mqtt.keep_alive_s",
            format!("{} is out of range (5-65535 s)", m.keep_alive_s),
        );
        r.check(
            m.reconnect_min_ms >= 1 && m.reconnect_min_ms <= m.reconnect_max_ms,
            "mqtt.reconnect_min_ms",
            format!(
                "{} must be at least 1 and at most mqtt.reconnect_max_ms ({})",
                m.reconnect_min_ms, m.reconnect_max_ms
            ),
        );
        r.check(
            (5..=3600).contains(&m.rollback_after_s),
            "mqtt.rollback_after_s",
            format!("{} is out of range (5-3600 s)", m.rollback_after_s),
        );
    }

    /// The embedded broker listens on `host`, so it must be an address. Checked after every
    /// other section (where it has always been reported).
    pub(super) fn validate_listener(&self, r: &mut Refusals) {
        if self.embedded_broker {
            r.check(
                self.host.parse::<std::net::IpAddr>().is_ok(),
                "mqtt.host",
                format!(
                    "`{}` must be an IP address for the embedded broker to listen on",
                    self.host
                ),
            );
        }
    }

    /// What going from `self` to `new` means. Every key is named: a new one does not compile
    /// until its change is classified here.
    pub(super) fn classify(&self, new: &MqttConfig, c: &mut ChangeSet) {
        let MqttConfig {
            host,
            port,
            topic_prefix,
            qos,
            embedded_broker,
            keep_alive_s,
            username,
            password,
            reconnect_min_ms,
            reconnect_max_ms,
            rollback_after_s,
        } = self;
        // Fixed at connect time: reconnect (and arm the rollback timer). The last will's topic
        // carries the prefix.
        c.mqtt_reconnect |= *host != new.host
            || *port != new.port
            || *username != new.username
            || *password != new.password
            || *keep_alive_s != new.keep_alive_s
            || *topic_prefix != new.topic_prefix
            || *embedded_broker != new.embedded_broker;
        // The publisher takes them without reconnecting.
        c.mqtt_tuning |= *qos != new.qos
            || *reconnect_min_ms != new.reconnect_min_ms
            || *reconnect_max_ms != new.reconnect_max_ms
            || *rollback_after_s != new.rollback_after_s;
        // Subscriptions and retained topics move with the prefix.
        c.topics_changed |= *topic_prefix != new.topic_prefix;
    }
}

#[cfg(test)]
#[path = "mqtt_tests.rs"]
mod tests;
