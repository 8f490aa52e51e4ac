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
        // after the handshake: the alert arrives wrapped in an I/O error.
        ConnectionError::Io(e) if is_tls_io(e) => FailureKind::Tls,
        ConnectionError::MqttState(rumqttc::StateError::Io(e)) if is_tls_io(e) => FailureKind::Tls,
        _ => FailureKind::Other,
    }
}

fn is_tls_io(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
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
            "the broker refused the login: not authorized (check mqtt.username, the password, \
             the client certificate and the broker's ACL for this client id)"
        }
        (FailureKind::Other, _) => "",
    }
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
