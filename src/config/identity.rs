//! Where `device_id` comes from when the config does not set it: the host name, so one config
//! file (and one SD-card image) serves every device of a fleet.
//!
//! The rule, from host name to id: keep the part before the first `.` (the short name of a
//! fully qualified `pi-07.lab.example`), lower-case it (host names are case-insensitive, topics
//! are not), replace every character outside `a-z`, `0-9`, `_` and `-` by `-`, and cut it to
//! 64 characters. An empty result is no id.

use std::path::Path;

/// Where the kernel keeps this host's name.
const HOSTNAME_FILE: &str = "/proc/sys/kernel/hostname";

/// Where the `device_id` in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceIdFrom {
    /// Set by the config file, the environment or `--set`.
    Config,
    /// Derived from this host name (as the kernel reports it).
    HostName(String),
}

/// The `device_id` derived from `host_name` (see the module documentation for the rule).
pub fn host_device_id(host_name: &str) -> Option<String> {
    let short = host_name.trim().split('.').next().unwrap_or_default();
    let id: String = short
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// This host's name, from `file` (the kernel's, normally).
pub(super) fn host_name(file: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(file)?.trim().to_owned())
}

/// The kernel's host name file.
pub(super) fn hostname_file() -> &'static Path {
    Path::new(HOSTNAME_FILE)
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
