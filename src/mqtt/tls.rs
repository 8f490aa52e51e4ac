//! The rustls client configuration of `[mqtt.tls]`: the trusted roots (a CA file, or the
//! system's), the client certificate, and the name the broker's certificate is checked against.
//!
//! The crypto provider is `ring`, passed explicitly (rumqttc is built with
//! `use-rustls-no-provider`): it cross-compiles with a plain C compiler, unlike aws-lc-rs, and no
//! process-wide default provider has to be installed.
//!
//! System roots come from `rustls-native-certs` (the OS trust store, `/etc/ssl/certs` on
//! Debian): it follows `update-ca-certificates`, so a fleet's private CA added to the image is
//! trusted, and the roots are updated with the OS instead of with edgetap.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::TlsConfig;

/// Why the TLS settings cannot be used (a file, not the network).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A file of `[mqtt.tls]` cannot be read.
    #[error("mqtt.tls.{key}: cannot read {}: {source}", path.display())]
    Read {
        /// The key naming the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file of `[mqtt.tls]` holds no PEM item of the kind the key needs.
    #[error("mqtt.tls.{key}: {} holds no PEM {what}", path.display())]
    Empty {
        /// The key naming the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What was looked for.
        what: &'static str,
    },
    /// The system trust store has no usable root certificate.
    #[error(
        "mqtt.tls: no CA certificate in the system trust store (install ca-certificates or set \
         mqtt.tls.ca_file)"
    )]
    NoSystemRoots,
    /// rustls refused the settings (a key that does not match the certificate, a bad CA).
    #[error("mqtt.tls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The rustls client configuration for `tls` (which must be enabled).
pub fn client_config(tls: &TlsConfig) -> Result<Arc<ClientConfig>, TlsSetupError> {
    // rustls deprecates its ring provider because ring has no post-quantum key exchange (only
    // aws-lc-rs does); ring is what cross-compiles to every Pi with a plain gcc, and X25519 is
    // what MQTT brokers offer today.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = Arc::new(roots(tls.ca_file.as_deref())?);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match &tls.server_name {
        Some(name) => {
            let name = ServerName::try_from(name.clone())
                .map_err(|e| rustls::Error::General(format!("server_name `{name}`: {e}")))?;
            let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NamedVerifier { inner, name }))
        }
        None => builder.with_root_certificates(roots),
    };
    let config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            builder.with_client_auth_cert(certificates("cert_file", cert)?, private_key(key)?)?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The roots the broker's certificate must chain to.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, TlsSetupError> {
    let mut store = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let (added, _) = store.add_parsable_certificates(certificates("ca_file", path)?);
            if added == 0 {
                return Err(TlsSetupError::Empty {
                    key: "ca_file",
                    path: path.to_path_buf(),
                    what: "CA certificate rustls can use",
                });
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "a system root certificate could not be read");
            }
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(TlsSetupError::NoSystemRoots);
            }
        }
    }
    Ok(store)
}

fn open(key: &'static str, path: &Path) -> Result<BufReader<File>, TlsSetupError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| TlsSetupError::Read {
            key,
            path: path.to_path_buf(),
            source,
        })
}

/// Every certificate of the PEM file `path`.
fn certificates(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = rustls_pemfile::certs(&mut open(key, path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsSetupError::Read {
            key,
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::Empty {
            key,
            path: path.to_path_buf(),
            what: "certificate (-----BEGIN CERTIFICATE-----)",
        });
    }
    Ok(certs)
}

/// The first private key of the PEM file `path`.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    rustls_pemfile::private_key(&mut open("key_file", path)?)
        .map_err(|source| TlsSetupError::Read {
            key: "key_file",
            path: path.to_path_buf(),
            source,
        })?
        .ok_or_else(|| TlsSetupError::Empty {
            key: "key_file",
            path: path.to_path_buf(),
            what: "private key (PKCS#8, PKCS#1 or SEC1)",
        })
}

/// WebPKI verification against a fixed name (`mqtt.tls.server_name`) instead of the host
/// connected to, for a broker addressed by IP whose certificate names its host name.
#[derive(Debug)]
struct NamedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NamedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _connected_to: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
