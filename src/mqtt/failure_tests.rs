//! Tests of the classification of failed connection attempts.

use super::*;

fn tls_alert_io() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
    )
}

#[test]
fn failures_are_sorted_by_kind() {
    let refused = |c| ConnectionError::ConnectionRefused(c);
    let cases = [
        (
            refused(ConnectReturnCode::BadUserNamePassword),
            FailureKind::Auth,
        ),
        (refused(ConnectReturnCode::NotAuthorized), FailureKind::Auth),
        (
            refused(ConnectReturnCode::ServiceUnavailable),
            FailureKind::Other,
        ),
        (
            ConnectionError::Tls(rumqttc::TlsError::TLS(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))),
            FailureKind::Tls,
        ),
        (ConnectionError::Io(tls_alert_io()), FailureKind::Tls),
        (
            ConnectionError::MqttState(rumqttc::StateError::Deserialization(rumqttc::Error::Io(
                tls_alert_io(),
            ))),
            FailureKind::Tls,
        ),
        (
            ConnectionError::Io(std::io::ErrorKind::ConnectionRefused.into()),
            FailureKind::Other,
        ),
        (ConnectionError::NetworkTimeout, FailureKind::Other),
    ];
    for (error, want) in cases {
        assert_eq!(kind(&error), want, "{error}");
    }
}

#[test]
fn advice_names_the_keys_to_check() {
    let bad = ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword);
    assert!(advice(FailureKind::Auth, &bad).contains("bad user name or password"));
    assert!(advice(FailureKind::Auth, &bad).contains("mqtt.password_file"));
    let not = ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized);
    assert!(advice(FailureKind::Auth, &not).contains("not authorized"));
    let io = ConnectionError::Io(tls_alert_io());
    assert!(advice(FailureKind::Tls, &io).contains("mqtt.tls.ca_file"));
    assert_eq!(
        advice(FailureKind::Other, &ConnectionError::NetworkTimeout),
        ""
    );
}
