//! Value Change Dump files: the parser the replay sampler reads and the writer `capture` emits.
//!
//! Wires named `gpio<N>` (N = 0–53, optionally with a `[0]` bit select) drive GPIO N; every
//! other wire is ignored. A parsed file becomes a [`Trace`]: initial levels, a time-sorted list
//! of level changes and an end time, with times kept exactly in femtoseconds (see [`Trace`]).

mod coverage;
mod cursor;
mod date;
mod header;
mod lex;
mod parse;
mod trace;
mod write;

pub use coverage::uncovered;
pub use cursor::Cursor;
pub use date::utc_string;
pub use parse::parse;
pub use trace::{Change, Trace, TraceBuilder, FS_PER_US};
pub use write::{write_trace, VcdWriter};

use std::path::Path;

/// Why a VCD file was rejected (with its line number) or could not be written.
#[derive(Debug, thiserror::Error)]
pub enum VcdError {
    /// The text is not valid VCD at this line.
    #[error("line {line}: {reason}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The writer was given a pin it cannot declare (out of range or listed twice).
    #[error("GPIO {pin}: {reason}")]
    BadPin {
        /// The GPIO number.
        pin: u8,
        /// Why it cannot be written.
        reason: String,
    },
    /// The writer was given an edge on a pin that is not declared in the header.
    #[error("GPIO {pin} is not declared in the VCD header")]
    UndeclaredPin {
        /// The GPIO number.
        pin: u8,
    },
    /// The writer was given a time before the origin (VCD time 0).
    #[error("time {t_us} µs is before the VCD origin {origin_us} µs")]
    BeforeOrigin {
        /// The offending UTC µs.
        t_us: u64,
        /// UTC µs of VCD time 0.
        origin_us: u64,
    },
    /// The writer was given a time earlier than one already written (VCD time cannot go back).
    #[error("time {t_us} µs is earlier than the previous one at {last_us} µs")]
    OutOfOrder {
        /// The offending UTC µs.
        t_us: u64,
        /// The latest UTC µs already written.
        last_us: u64,
    },
}

/// Reads and parses a VCD file; bytes that are not UTF-8 (e.g. in comments) are replaced.
pub fn read_file(path: &Path) -> Result<Trace, VcdError> {
    let bytes = std::fs::read(path)?;
    parse(&String::from_utf8_lossy(&bytes))
}
