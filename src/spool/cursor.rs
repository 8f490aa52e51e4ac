//! The ack cursor: `dir/cursor`, the position before which every record has been acknowledged,
//! so a restart replays as little as possible, and the lowest segment number never used, so a
//! record id is never given twice even when recovery deleted the newest segments.
//!
//! Best effort by design: a stale or missing cursor only means records acknowledged since it was
//! saved are published again (whole duplicates); it can never hide a record, because it only ever
//! names a position that every older record has passed, and a new segment never takes the
//! number the cursor names (see `Spool::open`). The file is 36 bytes: magic, segment, offset,
//! next segment number, CRC-32C of the rest; it is replaced atomically (temp file, rename).

use super::SpoolError;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// The cursor's file name.
pub const FILE: &str = "cursor";
/// The temp file the cursor is written to before the rename.
pub const TMP_FILE: &str = "cursor.tmp";
/// Marks the file and its format version.
const MAGIC: &[u8; 8] = b"ETCURS\x00\x02";
/// Size of the file.
const LEN: usize = 36;

/// A place in the spool: segment number and byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Segment number.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

/// What the cursor file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Every record before this position is acknowledged (or dropped).
    pub acked: Position,
    /// No segment numbered this or above has ever been created.
    pub next_segment: u64,
}

/// Encodes `cursor` as the file's bytes.
fn encode(cursor: Cursor) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    out[..8].copy_from_slice(MAGIC);
    out[8..16].copy_from_slice(&cursor.acked.segment.to_le_bytes());
    out[16..24].copy_from_slice(&cursor.acked.offset.to_le_bytes());
    out[24..32].copy_from_slice(&cursor.next_segment.to_le_bytes());
    let crc = crc32c::crc32c(&out[..32]);
    out[32..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes the file's bytes; `None` if they are not a cursor.
fn decode(bytes: &[u8]) -> Option<Cursor> {
    let bytes: &[u8; LEN] = bytes.try_into().ok()?;
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
    let crc = u32::from_le_bytes([bytes[32], bytes[33], bytes[34], bytes[35]]);
    (bytes[..8] == *MAGIC && crc32c::crc32c(&bytes[..32]) == crc).then(|| Cursor {
        acked: Position {
            segment: word(8),
            offset: word(16),
        },
        next_segment: word(24),
    })
}

/// Reads the cursor in `dir`: `None` if there is none or it is damaged (logged; the spool then
/// replays everything it holds).
pub fn load(dir: &Path) -> Result<Option<Cursor>, SpoolError> {
    let path = dir.join(FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SpoolError::Io {
                op: "read",
                path,
                source,
            })
        }
    };
    let pos = decode(&bytes);
    if pos.is_none() {
        tracing::warn!(path = %path.display(), len = bytes.len(),
            "spool ack cursor is damaged; replaying every spooled record");
    }
    Ok(pos)
}

/// Replaces the cursor in `dir` with `cursor`; with `durable`, syncs the file before the rename
/// and the directory after it.
pub fn save(dir: &Path, cursor: Cursor, durable: bool) -> Result<(), SpoolError> {
    let tmp = dir.join(TMP_FILE);
    let path = dir.join(FILE);
    let written = crate::private_fs::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(&encode(cursor))?;
            if durable {
                file.sync_data()?;
            }
            Ok(())
        })
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(SpoolError::Io {
            op: "save the ack cursor to",
            path,
            source,
        });
    }
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Makes entries created, renamed or removed in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SpoolError::io("sync", dir))
}

#[cfg(test)]
#[path = "cursor_tests.rs"]
mod tests;
