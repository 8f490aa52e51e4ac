//! The broker password, kept out of the config file: read at load time from
//! `mqtt.password_file` or from the systemd credential `mqtt.password_credential`
//! (`$CREDENTIALS_DIRECTORY/<name>`, which `LoadCredential=<name>:<file>` fills), into
//! `mqtt.password`. From there it is treated like any password: never logged, printed
//! (`config check` shows `***`), published, nor changed or stored by the remote layer (the key
//! is local-only).
//!
//! The file holds the password on its first line; the line end is not part of it, so
//! `echo secret > file` works.

use super::error::FieldError;
use super::MqttConfig;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The environment variable systemd sets to the directory of the unit's credentials.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Where the password in force came from (for `config check`; never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFrom {
    /// No password.
    None,
    /// `mqtt.password`, from the config file, the environment or `--set`.
    Config,
    /// `mqtt.password_file`.
    File(PathBuf),
    /// The systemd credential `mqtt.password_credential`, at this path.
    Credential(PathBuf),
}

/// Reads the password named by `password_file` or `password_credential` into `password`;
/// `credentials_dir` is `$CREDENTIALS_DIRECTORY`. At most one of the three keys may be set.
pub(super) fn resolve_password(
    m: &mut MqttConfig,
    credentials_dir: Option<&Path>,
) -> Result<PasswordFrom, FieldError> {
    let sources = [
        ("mqtt.password", m.password.is_some()),
        ("mqtt.password_file", m.password_file.is_some()),
        ("mqtt.password_credential", m.password_credential.is_some()),
    ];
    let set: Vec<&str> = sources.iter().filter(|s| s.1).map(|s| s.0).collect();
    if set.len() > 1 {
        return Err(FieldError::new(
            set[1],
            format!(
                "set together with {}: keep only one source of the password",
                set[0]
            ),
        ));
    }
    let (key, path, from) = if let Some(file) = &m.password_file {
        (
            "mqtt.password_file",
            file.clone(),
            PasswordFrom::File(file.clone()),
        )
    } else if let Some(name) = &m.password_credential {
        let dir = credentials_dir.ok_or_else(|| {
            FieldError::new(
                "mqtt.password_credential",
                format!(
                    "${CREDENTIALS_DIRECTORY} is not set: systemd sets it for a unit with \
                     `LoadCredential={name}:<file>` (or `LoadCredential={name}` for \
                     /etc/credstore/{name}); to check the config outside the service, set \
                     {CREDENTIALS_DIRECTORY} to the directory holding the file `{name}`"
                ),
            )
        })?;
        let path = dir.join(name);
        (
            "mqtt.password_credential",
            path.clone(),
            PasswordFrom::Credential(path),
        )
    } else if m.password.is_some() {
        return Ok(PasswordFrom::Config);
    } else {
        return Ok(PasswordFrom::None);
    };
    m.password = Some(read_password(&path).map_err(|reason| FieldError::new(key, reason))?);
    Ok(from)
}

/// The first line of `path`, never echoed in an error.
fn read_password(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(format!(
            "{} holds no password (its first line is empty)",
            path.display()
        ));
    }
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the password file is readable by other users (mode {mode:03o}); \
                 `chmod 600` it"
            );
        }
    }
    Ok(line.to_owned())
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
