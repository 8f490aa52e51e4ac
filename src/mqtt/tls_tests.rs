//! Tests of the rustls client configuration: which files it takes and how it says what is
//! wrong with them. (Handshakes against a real broker are in `tests/tls.rs`.)

use super::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// A CA and a client certificate signed by it, as PEM files in `dir`.
fn files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(vec![]).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["pi-01".into()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("client.pem"),
        dir.join("client.key"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn tls(ca: Option<&Path>, cert: Option<&Path>, key: Option<&Path>) -> TlsConfig {
    TlsConfig {
        enabled: true,
        ca_file: ca.map(Path::to_path_buf),
        cert_file: cert.map(Path::to_path_buf),
        key_file: key.map(Path::to_path_buf),
        server_name: None,
    }
}

#[test]
fn a_ca_file_and_a_client_certificate_make_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = files(dir.path());
    let c = client_config(&tls(Some(&ca), Some(&cert), Some(&key))).unwrap();
    assert!(c.client_auth_cert_resolver.has_certs());
    let c = client_config(&tls(Some(&ca), None, None)).unwrap();
    assert!(!c.client_auth_cert_resolver.has_certs());
    let mut named = tls(Some(&ca), None, None);
    named.server_name = Some("broker.example".into());
    assert!(client_config(&named).is_ok());
}

#[test]
fn bad_files_are_named_by_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = files(dir.path());
    let absent = dir.path().join("absent.pem");
    let e = client_config(&tls(Some(&absent), None, None)).unwrap_err();
    assert!(
        matches!(e, TlsSetupError::Read { key: "ca_file", .. }),
        "{e}"
    );
    // A key where the CA should be: no certificate in it.
    let e = client_config(&tls(Some(&key), None, None)).unwrap_err();
    assert!(
        matches!(e, TlsSetupError::Empty { key: "ca_file", .. }),
        "{e}"
    );
    // A certificate where the key should be.
    let e = client_config(&tls(Some(&ca), Some(&cert), Some(&cert))).unwrap_err();
    assert!(e.to_string().starts_with("mqtt.tls.key_file:"), "{e}");
    // A key that is not the certificate's.
    let other = dir.path().join("other.key");
    std::fs::write(&other, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let e = client_config(&tls(Some(&ca), Some(&cert), Some(&other))).unwrap_err();
    assert!(matches!(e, TlsSetupError::Rustls(_)), "{e}");
}
