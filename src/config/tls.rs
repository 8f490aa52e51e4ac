//! The `[mqtt.tls]` table: TLS to the broker (rustls), the roots it trusts, the client
//! certificate it may present, and the name it checks the broker's certificate against.

use super::error::Refusals;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The broker port when TLS is on and `mqtt.port` is not set (IANA's `secure-mqtt`).
pub const TLS_PORT: u16 = 8883;
/// The broker port without TLS when `mqtt.port` is not set.
pub const PLAIN_PORT: u16 = 1883;

/// TLS to the broker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Connect with TLS (rustls).
    pub enabled: bool,
    /// PEM file of the CA certificates trusted for the broker; unset: the system's roots
    /// (`/etc/ssl/certs`, as `update-ca-certificates` keeps them). Local-only.
    pub ca_file: Option<PathBuf>,
    /// PEM file of the client certificate (chain), for brokers that authenticate devices by
    /// certificate; needs `key_file`. Local-only.
    pub cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key (PKCS#8, PKCS#1 or SEC1). Local-only.
    pub key_file: Option<PathBuf>,
    /// The name the broker's certificate must carry, when it differs from `mqtt.host` (a broker
    /// addressed by IP address).
    pub server_name: Option<String>,
}

impl TlsConfig {
    /// Checks the table's rules; `embedded_broker` because the embedded broker has no TLS.
    pub(super) fn validate(&self, embedded_broker: bool, r: &mut Refusals) {
        let TlsConfig {
            enabled,
            ca_file,
            cert_file,
            key_file,
            server_name,
        } = self;
        r.check(
            cert_file.is_some() == key_file.is_some(),
            if cert_file.is_some() {
                "mqtt.tls.key_file"
            } else {
                "mqtt.tls.cert_file"
            },
            "client certificate authentication needs both mqtt.tls.cert_file and \
             mqtt.tls.key_file"
                .into(),
        );
        if !enabled {
            let set = [
                ("ca_file", ca_file.is_some()),
                ("cert_file", cert_file.is_some()),
                ("key_file", key_file.is_some()),
                ("server_name", server_name.is_some()),
            ];
            for (key, is_set) in set {
                r.check(
                    !is_set,
                    &format!("mqtt.tls.{key}"),
                    "is set but mqtt.tls.enabled = false: the connection would be plain TCP; \
                     set mqtt.tls.enabled = true or remove the key"
                        .into(),
                );
            }
        }
        r.check(
            !(*enabled && embedded_broker),
            "mqtt.tls.enabled",
            "the embedded broker listens without TLS; turn off mqtt.embedded_broker or TLS".into(),
        );
        for (key, path) in [
            ("ca_file", ca_file),
            ("cert_file", cert_file),
            ("key_file", key_file),
        ] {
            if let Some(p) = path {
                r.check(
                    !p.as_os_str().is_empty(),
                    &format!("mqtt.tls.{key}"),
                    "must not be empty (remove the key instead)".into(),
                );
            }
        }
        if let Some(name) = server_name {
            r.check(
                rustls::pki_types::ServerName::try_from(name.as_str()).is_ok(),
                "mqtt.tls.server_name",
                format!("`{name}` is not a DNS name or IP address"),
            );
        }
    }

    /// The files of the table, each with its key, to resolve against the config's directory.
    pub(super) fn paths_mut(&mut self) -> [&mut Option<PathBuf>; 3] {
        [&mut self.ca_file, &mut self.cert_file, &mut self.key_file]
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
