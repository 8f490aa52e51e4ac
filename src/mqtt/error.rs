//! Errors of the MQTT side: configuration the publisher cannot use, and broker start-up failures.
//! Network trouble is not an error here: the publisher retries it with backoff.

use std::net::SocketAddr;

/// What can stop the publisher or the embedded broker.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// `mqtt.qos` is not 0, 1 or 2.
    #[error("mqtt.qos must be 0, 1 or 2, got {0}")]
    InvalidQos(u8),
    /// The TLS settings cannot be used (a file missing or unreadable, no roots).
    #[error(transparent)]
    Tls(#[from] super::tls::TlsSetupError),
    /// The task driving the rumqttc event loop ended unexpectedly (panic or cancellation).
    #[error("MQTT event loop task stopped unexpectedly")]
    EventLoopStopped,
    /// The embedded broker could not bind its listen address (usually: port already in use).
    #[error(
        "embedded broker cannot listen on {addr}: {source}{}",
        bind_hint(source)
    )]
    BrokerBind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The embedded broker thread could not be started or stopped before accepting connections.
    #[error("embedded broker on {addr} did not start: {reason}")]
    BrokerStart {
        /// The address the broker was meant to listen on.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
}

/// What to do about a port in use: the override that picks another one.
fn bind_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        " (another broker or edgetap runs there; pick a free port with --set mqtt.port=PORT)"
    } else {
        ""
    }
}
