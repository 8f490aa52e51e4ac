//! The meters' totals in `state_dir/meter-totals.json` (`{"v":1,"pulses":{"22":123456}}`),
//! read at start and replaced whole, atomically (temporary file, fsync, rename, fsync of the
//! directory): a crash leaves the previous totals or the new ones, never half of a file. A
//! `kill -9` or power loss loses at most the pulses counted since the last save
//! (`meter.persist_s`).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tracing::{error, warn};

/// File name of the totals inside `state_dir`.
pub const TOTALS_FILE: &str = "meter-totals.json";

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    v: u32,
    pulses: BTreeMap<u8, u64>,
}

/// The saved totals (pulses by pin); none when there is no file. An unreadable file is logged
/// and moved aside (`.bad`) so it is never overwritten unseen.
pub fn load_totals(state_dir: &Path) -> BTreeMap<u8, u64> {
    let path = state_dir.join(TOTALS_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => {
            error!(file = %path.display(), error = %e, "meter totals unreadable: meters start at 0");
            return BTreeMap::new();
        }
    };
    match serde_json::from_slice::<Stored>(&bytes) {
        Ok(s) => s.pulses,
        Err(e) => {
            error!(file = %path.display(), error = %e,
                "meter totals corrupt: kept as .bad, meters start at 0");
            let _ = fs::rename(&path, path.with_extension("json.bad"));
            BTreeMap::new()
        }
    }
}

/// Saves `totals` atomically; a failure is logged (the next save tries again).
pub fn save_totals(state_dir: &Path, totals: &BTreeMap<u8, u64>) {
    if let Err(e) = write(state_dir, totals) {
        warn!(dir = %state_dir.display(), error = %e, "meter totals not saved");
    }
}

fn write(state_dir: &Path, totals: &BTreeMap<u8, u64>) -> io::Result<()> {
    fs::create_dir_all(state_dir)?;
    let path = state_dir.join(TOTALS_FILE);
    let tmp = state_dir.join(format!("{TOTALS_FILE}.tmp"));
    let text = serde_json::to_vec(&Stored {
        v: 1,
        pulses: totals.clone(),
    })
    .map_err(io::Error::other)?;
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(state_dir)?.sync_all()
}

#[cfg(test)]
#[path = "totals_tests.rs"]
mod tests;
