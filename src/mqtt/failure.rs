//! Why a connection attempt failed, in the operator's terms: a TLS failure (certificate,
//! name, handshake) or a refused login are configuration problems that retrying will not fix,
//! so each attempt says so plainly (and is counted by kind); anything else is the network.

use rumqttc::{ConnectReturnCode, ConnectionError};

/// The kind of a failed connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// TLS: the broker's certificate was refused (unknown CA, wrong name, expired), the
    /// handshake failed, or the broker refused our certificate.
    Tls,
    /// The broker refused the login (CONNACK: bad user name or password, not authorized).
    Auth,
    /// The network or the broker: unreachable, reset, timed out, protocol trouble.
    Other,
}

/// The kind of `error`.
pub(crate) fn kind(error: &ConnectionError) -> FailureKind {
    match error {
        ConnectionError::Tls(_) => FailureKind::Tls,
        ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
        ) => FailureKind::Auth,
        // A TLS 1.3 client whose certificate the broker refuses learns it only when it reads
        // after the handshake: the alert arrives as an I/O error, wrapped by the MQTT layers.
        other if caused_by_tls(other) => FailureKind::Tls,
        _ => FailureKind::Other,
    }
}

/// Whether a rustls error is somewhere in `error`'s chain of causes (an `io::Error` hides its
/// inner error from `source`, so it is opened explicitly).
fn caused_by_tls(error: &ConnectionError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return true;
            }
        }
        next = e.source();
    }
    false
}

/// What to check for a failure of `kind`, appended to its log line.
pub(crate) fn advice(kind: FailureKind, error: &ConnectionError) -> &'static str {
    match (kind, error) {
        (FailureKind::Tls, _) => {
            "TLS failed: check mqtt.tls.ca_file (the CA that signed the broker's certificate), \
             mqtt.tls.server_name (the name in that certificate) and, if the broker asks for one, \
             the client certificate (mqtt.tls.cert_file / key_file)"
        }
        (
            FailureKind::Auth,
            ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword),
        ) => {
            "the broker refused the login: bad user name or password (check mqtt.username and \
             mqtt.password_file / mqtt.password_credential)"
        }
        (FailureKind::Auth, _) => {
            "the broker refused the login: not authorized (mosquitto answers a wrong password \
             so too: check mqtt.username, mqtt.password_file / mqtt.password_credential, the \
             client certificate, and that the broker lets this user connect)"
        }
        (FailureKind::Other, _) => "",
    }
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
