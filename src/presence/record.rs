//! The record files of `state_dir`: a JSON list of topics, read at start and replaced whole
//! (through a temporary file and a rename, so a crash leaves the old list or the new one, never
//! half of one).

use std::collections::BTreeSet;
use std::path::Path;

use tracing::warn;

use crate::wire::topics::topic_name_problem;

/// The list in `path`: `Ok(None)` when there is none (missing or unreadable file), `Err` when
/// its content is not a list of topics.
///
/// Entries that are not topic names (a hand-edited `edgetap/#` would have the agent clear or
/// unsubscribe a wildcard) are refused one by one, each logged with the file; the others are
/// kept, so one bad line does not make the agent forget what it holds.
pub(crate) fn read_set(path: &Path) -> Result<Option<BTreeSet<String>>, serde_json::Error> {
    let set: BTreeSet<String> = match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(_) => return Ok(None),
    };
    Ok(Some(valid_topics(set, path)))
}

/// `set` without the entries that are not topic names, each refusal logged with `path`.
fn valid_topics(set: BTreeSet<String>, path: &Path) -> BTreeSet<String> {
    set.into_iter()
        .filter(|t| match topic_name_problem(t) {
            None => true,
            Some(why) => {
                let shown: String = t.chars().take(80).collect();
                warn!(file = %path.display(), entry = %shown.escape_debug(), reason = why,
                    "state file entry is not a topic name; ignored");
                false
            }
        })
        .collect()
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

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
