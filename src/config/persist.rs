//! Persistence of the remote configuration across restarts, in `state_dir/remote-config.json`:
//! `{"version": N, "patch": {...}}`.
//!
//! What is stored is the *remote layer*: the merge patch that turns the file config into the
//! config in force, computed as a diff (keys equal in both are left out). Storing the whole
//! effective config would be simpler, but would shadow the file entirely: after a remote change of
//! one filter, an edit of `batch.max_edges` in the file would silently never apply. With the
//! layer, a file edit applies to every key the backend never changed; keys it did change keep
//! the remote value. A diff (rather than the patches received, merged together) keeps the layer
//! exact: merge patches do not compose when one removes a table that the next one sets again.
//!
//! The file is written atomically (temp file in the same directory, fsync, rename, fsync of the
//! directory), mode 0600 in a 0700 `state_dir` ([`crate::private_fs`]). It never holds the broker
//! password: the password keys are local-only, so they are never part of the remote layer. On start, a persisted file that
//! cannot be read as JSON, or whose patch no longer fits the file config, is logged, renamed to
//! `remote-config.json.bad` and ignored: the agent runs with the file config rather than not at
//! all. The config file itself is never written.

use super::remote::{patch_config, RemoteConfig};
use super::Config;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// File name of the persisted remote config inside `state_dir`.
pub const STATE_FILE: &str = "remote-config.json";

/// Why the remote config could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The persisted file exists but cannot be read (permissions, I/O).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The state could not be written; the previous file, if any, is intact.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A config cannot be turned into JSON (e.g. a path that is not UTF-8).
    #[error("cannot serialize the remote config: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The file's content.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Persisted {
    version: u64,
    patch: Value,
}

/// Saves the remote layer of `remote` (version and patch over its file config) atomically to
/// `state_dir/remote-config.json`, creating `state_dir` if needed.
pub fn save(state_dir: &Path, remote: &RemoteConfig) -> Result<(), PersistError> {
    let from = serde_json::to_value(remote.file_config())?;
    let to = serde_json::to_value(remote.config())?;
    let text = serde_json::to_string_pretty(&Persisted {
        version: remote.version(),
        patch: merge_diff(&from, &to),
    })?;
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PersistError::Write { path, source }
    };
    crate::private_fs::create_dir_all(state_dir).map_err(write_err(state_dir))?;
    let path = state_dir.join(STATE_FILE);
    let tmp = state_dir.join(format!("{STATE_FILE}.tmp"));
    let written = write_synced(&tmp, text.as_bytes()).and_then(|()| fs::rename(&tmp, &path));
    if let Err(source) = written {
        // Never leave a half-written temp file behind; the old state file is untouched.
        let _ = fs::remove_file(&tmp);
        return Err(PersistError::Write { path, source });
    }
    // The rename is durable only once the directory entry is on disk.
    File::open(state_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(write_err(state_dir))
}

/// Writes `bytes` to a fresh owner-only file and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = crate::private_fs::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Puts the persisted remote layer in `state_dir` over `file_config`.
///
/// No file: the file config at version 0. A corrupt file (not JSON, wrong shape) is renamed to
/// `.bad` and ignored (version 0). A readable file whose patch no longer fits the file config
/// (e.g. the file was edited) is renamed and ignored too, but its version is kept so versions
/// never go backwards for the backend. Only an I/O error reading an existing file is an error;
/// the agent should log it and go on with the file config.
pub fn overlay(file_config: Config, state_dir: &Path) -> Result<RemoteConfig, PersistError> {
    let path = state_dir.join(STATE_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(RemoteConfig::new(file_config)),
        Err(source) => return Err(PersistError::Read { path, source }),
    };
    let persisted: Persisted = match serde_json::from_slice(&text) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e,
                "persisted remote config is corrupt; using the file config");
            quarantine(&path);
            return Ok(RemoteConfig::new(file_config));
        }
    };
    let applied = match &persisted.patch {
        Value::Object(_) => patch_config(&file_config, &persisted.patch),
        other => Err(super::FieldError::new(
            "patch",
            format!("not an object: {other}"),
        )),
    };
    match applied {
        Ok(config) => {
            tracing::info!(
                version = persisted.version,
                "persisted remote config in force"
            );
            Ok(RemoteConfig::restore(
                file_config,
                config,
                persisted.version,
            ))
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), version = persisted.version, error = %e,
                "persisted remote config no longer applies to the config file; using the file config");
            quarantine(&path);
            Ok(RemoteConfig::restore(
                file_config.clone(),
                file_config,
                persisted.version,
            ))
        }
    }
}

/// Sets the persisted remote layer in `state_dir` aside (renamed to
/// `remote-config.json.reset`, kept for inspection): the next start runs with the file config
/// at version 0. The device owner's way back from any remote change, including a version no
/// later patch can pass; no patch can take it away, as it needs the device's disk. Run it
/// with the agent stopped (a running agent writes the layer again at its next patch).
///
/// Returns the version the layer had (`Some(0)` if it was unreadable), `None` if there was none.
pub fn reset(state_dir: &Path) -> Result<Option<u64>, PersistError> {
    let path = state_dir.join(STATE_FILE);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(PersistError::Read { path, source }),
    };
    let version = serde_json::from_slice::<Value>(&text)
        .ok()
        .and_then(|v| v.get("version").and_then(Value::as_u64))
        .unwrap_or(0);
    let aside = state_dir.join(format!("{STATE_FILE}.reset"));
    fs::rename(&path, &aside).map_err(|source| PersistError::Write { path, source })?;
    Ok(Some(version))
}

/// Moves a bad state file aside, keeping it for a human to inspect.
fn quarantine(path: &Path) {
    let bad = path.with_extension("json.bad");
    if let Err(e) = fs::rename(path, &bad) {
        tracing::warn!(path = %path.display(), error = %e, "cannot rename the bad state file");
    }
}

/// The merge patch that turns `from` into `to`: unchanged keys are left out, removed keys are
/// `null`, tables are diffed recursively, anything else is replaced whole.
fn merge_diff(from: &Value, to: &Value) -> Value {
    let (Value::Object(f), Value::Object(t)) = (from, to) else {
        return to.clone();
    };
    let mut out = Map::new();
    for (key, tv) in t {
        match f.get(key) {
            Some(fv) if fv == tv => {}
            Some(fv) if fv.is_object() && tv.is_object() => {
                out.insert(key.clone(), merge_diff(fv, tv));
            }
            _ => {
                out.insert(key.clone(), tv.clone());
            }
        }
    }
    for key in f.keys().filter(|k| !t.contains_key(*k)) {
        out.insert(key.clone(), Value::Null);
    }
    Value::Object(out)
}

#[cfg(test)]
#[path = "persist_tests.rs"]
mod tests;
