//! The `[mqtt]` section: broker connection, topics, QoS and reconnecting.

use super::changeset::ChangeSet;
use super::error::Refusals;
use super::tls::{TlsConfig, PLAIN_PORT, TLS_PORT};
use super::topic::prefix_problem;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Broker connection and topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker host name or IP address (not a URL: the port and TLS have their own keys).
    pub host: String,
    /// Broker TCP port; unset: 8883 with TLS, 1883 without.
    pub port: Option<u16>,
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
    /// Optional password (never logged, printed or published). Local-only; better kept out of
    /// the config file with `password_file` or `password_credential`.
    pub password: Option<String>,
    /// File holding the password (its first line), relative to the config file. Local-only.
    pub password_file: Option<PathBuf>,
    /// Name of a systemd credential holding the password: read from
    /// `$CREDENTIALS_DIRECTORY/<name>`, as `LoadCredential=<name>:…` provides it. Local-only.
    pub password_credential: Option<String>,
    /// First reconnect delay (ms); doubles per failure up to `reconnect_max_ms`, with jitter.
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay (ms).
    pub reconnect_max_ms: u64,
    /// After a remote change of the connection, revert to the previous settings if the broker is
    /// not reached within this many seconds (5–3600).
    pub rollback_after_s: u64,
    /// TLS to the broker.
    pub tls: TlsConfig,
    /// MQTT protocol version: `"3.1.1"` or `"5"` (reason codes, Maximum Packet Size,
    /// request/response on `config/result`).
    pub protocol: String,
    /// MQTT 5 only: how long (s) the broker keeps the session (subscriptions, queued patches)
    /// after a disconnect; 4294967295 = never expires. MQTT 3.1.1 sessions have no expiry.
    pub session_expiry_s: u32,
}

/// The `mqtt.protocol` values.
pub const PROTOCOLS: [&str; 2] = ["3.1.1", "5"];
/// Shortest `mqtt.session_expiry_s`: a session that ends at a disconnect loses the patches
/// sent while the device is away.
pub const MIN_SESSION_EXPIRY_S: u32 = 60;

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".into(),
            port: None,
            topic_prefix: "edgetap".into(),
            qos: 1,
            embedded_broker: false,
            keep_alive_s: 30,
            username: None,
            password: None,
            password_file: None,
            password_credential: None,
            reconnect_min_ms: 250,
            reconnect_max_ms: 30_000,
            rollback_after_s: 60,
            tls: TlsConfig::default(),
            protocol: "3.1.1".into(),
            session_expiry_s: 86_400,
        }
    }
}

impl MqttConfig {
    /// The broker port: `port`, else the standard one for the transport (8883 with TLS).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.tls.enabled {
            TLS_PORT
        } else {
            PLAIN_PORT
        })
    }

    /// `host:port`, for messages (IPv6 addresses bracketed).
    pub fn broker(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port())
        } else {
            format!("{}:{}", self.host, self.port())
        }
    }

    /// Whether the connection speaks MQTT 5.
    pub fn is_v5(&self) -> bool {
        self.protocol == "5"
    }

    /// Checks the section's rules, except [`MqttConfig::validate_listener`].
    pub(super) fn validate(&self, r: &mut Refusals) {
        let m = self;
        r.check(!m.host.is_empty(), "mqtt.host", "must not be empty".into());
        if let Some(reason) = host_problem(&m.host) {
            r.check(false, "mqtt.host", reason);
        }
        r.check(m.port != Some(0), "mqtt.port", "0 is not a port".into());
        if let Some(name) = &m.password_credential {
            r.check(
                is_credential_name(name),
                "mqtt.password_credential",
                format!("`{name}` is not a credential name (a file name: no `/`, not `.` or `..`)"),
            );
        }
        if let Some(p) = &m.password_file {
            r.check(
                !p.as_os_str().is_empty(),
                "mqtt.password_file",
                "must not be empty (remove the key instead)".into(),
            );
        }
        m.tls.validate(m.embedded_broker, r);
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
        r.check(
            PROTOCOLS.contains(&m.protocol.as_str()),
            "mqtt.protocol",
            format!(
                "`{}` is not a protocol version (\"3.1.1\" or \"5\")",
                m.protocol
            ),
        );
        r.check(
            m.session_expiry_s >= MIN_SESSION_EXPIRY_S,
            "mqtt.session_expiry_s",
            format!(
                "{} is too short (at least {MIN_SESSION_EXPIRY_S} s, or the broker drops the \
                 patches sent while the device is away)",
                m.session_expiry_s
            ),
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
            password_file,
            password_credential,
            reconnect_min_ms,
            reconnect_max_ms,
            rollback_after_s,
            tls,
            protocol,
            session_expiry_s,
        } = self;
        // Fixed at connect time: reconnect (and arm the rollback timer). The last will's topic
        // carries the prefix.
        c.mqtt_reconnect |= *host != new.host
            || *port != new.port
            || *username != new.username
            || *password != new.password
            || *password_file != new.password_file
            || *password_credential != new.password_credential
            || *tls != new.tls
            || *keep_alive_s != new.keep_alive_s
            || *topic_prefix != new.topic_prefix
            || *embedded_broker != new.embedded_broker
            || *protocol != new.protocol
            || *session_expiry_s != new.session_expiry_s;
        // The publisher takes them without reconnecting.
        c.mqtt_tuning |= *qos != new.qos
            || *reconnect_min_ms != new.reconnect_min_ms
            || *reconnect_max_ms != new.reconnect_max_ms
            || *rollback_after_s != new.rollback_after_s;
        // Subscriptions and retained topics move with the prefix.
        c.topics_changed |= *topic_prefix != new.topic_prefix;
    }
}

/// Why `host` is not a host name or address, with the keys that say what the user meant: a URL
/// (`mqtts://broker:8883`) or `host:port` is split into `mqtt.host`, `mqtt.port` and
/// `mqtt.tls.enabled`.
fn host_problem(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let (scheme, rest) = match host.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, host),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (name, port) = match authority.rsplit_once(':') {
        Some((n, p)) if p.parse::<u16>().is_ok() && !n.contains(':') => (n, Some(p)),
        _ => (
            authority.trim_start_matches('[').trim_end_matches(']'),
            None,
        ),
    };
    let tls = matches!(
        scheme.as_deref(),
        Some("mqtts" | "ssl" | "tls" | "tcps" | "wss")
    );
    let mut keys = vec![format!("mqtt.host = \"{name}\"")];
    if let Some(p) = port {
        keys.push(format!("mqtt.port = {p}"));
    }
    if tls {
        keys.push("mqtt.tls.enabled = true".into());
    }
    let hint = format!("set {}", keys.join(", "));
    if let Some(scheme) = scheme {
        Some(format!(
            "`{host}` is a URL ({scheme}://); mqtt.host takes a host name or address only: {hint}"
        ))
    } else if rest.contains('/') {
        Some(format!(
            "`{host}` has a path; mqtt.host takes a host name or address only: {hint}"
        ))
    } else if port.is_some() {
        Some(format!(
            "`{host}` holds a port; mqtt.host takes a host name or address only: {hint}"
        ))
    } else if host.contains(|c: char| c.is_whitespace() || c == ':' || c == '@') {
        Some(format!("`{host}` is not a host name or address"))
    } else {
        None
    }
}

/// A systemd credential name: a file name inside `$CREDENTIALS_DIRECTORY`.
fn is_credential_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

#[cfg(test)]
#[path = "mqtt_tests.rs"]
mod tests;
