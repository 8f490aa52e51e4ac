//! The record files of `state_dir`: a JSON list of topics, read at start and replaced whole
//! (through a temporary file and a rename, so a crash leaves the old list or the new one, never
//! half of one).

use std::collections::BTreeSet;
use std::path::Path;

/// The list in `path`: `Ok(None)` when there is none (missing or unreadable file), `Err` when
/// its content is not a list of topics.
pub(crate) fn read_set(path: &Path) -> Result<Option<BTreeSet<String>>, serde_json::Error> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some),
        Err(_) => Ok(None),
    }
}

/// Writes `set` as a JSON list to `path` through a temporary file and a rename.
pub(crate) fn write_atomically(path: &Path, set: &BTreeSet<String>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::private_fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    crate::private_fs::write(
        &tmp,
        &serde_json::to_vec(set).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, path)
}
