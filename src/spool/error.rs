//! Why a spool operation failed; every variant names the file (and offset) involved.

use std::io;
use std::path::PathBuf;

/// Why a spool operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The options cannot make a working spool.
    #[error("spool option {field}: {reason}")]
    Options {
        /// The option's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A file or directory operation failed (list, open, create, sync, remove, truncate).
    #[error("spool: cannot {op} {}: {source}", path.display())]
    Io {
        /// What was attempted.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Appending a record failed; the segment was cut back to its last whole record.
    #[error("spool: cannot write {} at offset {offset}: {source}", path.display())]
    Write {
        /// The segment file.
        path: PathBuf,
        /// Where the record was going.
        offset: u64,
        /// The OS error.
        source: io::Error,
    },
    /// Reading a record failed; the record stays next in line.
    #[error("spool: cannot read {} at offset {offset}: {source}", path.display())]
    Read {
        /// The segment file.
        path: PathBuf,
        /// The record's offset.
        offset: u64,
        /// The OS error.
        source: io::Error,
    },
    /// A record changed on disk after it was written; it (and what follows it in its segment,
    /// which cannot be framed any more) is dropped and counted.
    #[error("spool: corrupt record in {} at offset {offset} ({reason}); {lost} record(s) dropped",
        path.display())]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// The record's offset.
        offset: u64,
        /// What is wrong with it.
        reason: String,
        /// Records dropped because of it.
        lost: u64,
    },
    /// A payload that can never fit.
    #[error("spool: a payload of {size} bytes cannot fit in {} (at most {max} bytes)", dir.display())]
    TooLarge {
        /// The spool directory.
        dir: PathBuf,
        /// The payload's size.
        size: usize,
        /// The largest payload the spool takes.
        max: u64,
    },
}

impl SpoolError {
    /// A closure turning an OS error into [`SpoolError::Io`] for `op` on `path`.
    pub(super) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| SpoolError::Io { op, path, source }
    }
}
