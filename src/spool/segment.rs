//! One segment file: `NNNNNNNNNNNNNNNNNNNN.seg` (20 digits, so names sort by age), an 8-byte
//! header (`b"ETSPOOL"` and a format version), then records, only ever appended.
//!
//! Format 2 (written now) frames records with a sync marker; format 1 segments (no marker)
//! are still read, and replaced by format 2 ones as they are acknowledged.

use super::record::{self, Framing, Invalid};
use super::SpoolError;
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes of the segment header.
pub const HEADER_LEN: u64 = 8;
/// Magic that marks a file as a spool segment.
const MAGIC: &[u8; 7] = b"ETSPOOL";
/// The format this build writes (it also reads format 1).
pub const VERSION: u8 = 2;
/// The header this build writes.
const HEADER: [u8; HEADER_LEN as usize] = [
    MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], MAGIC[4], MAGIC[5], MAGIC[6], VERSION,
];
/// File-name suffix of segments.
const SUFFIX: &str = ".seg";
/// Digits in a segment number.
const DIGITS: usize = 20;

/// The file name of segment `number`.
pub fn file_name(number: u64) -> String {
    format!("{number:0DIGITS$}{SUFFIX}")
}

/// The segment number a file name stands for, if it is a segment name at all.
pub fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What the first bytes of a segment-named file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderCheck {
    /// Our header, a version this build reads, with its record framing.
    Ours(Framing),
    /// A prefix of our header (possibly empty): created, then cut short by a crash.
    Torn,
    /// Our magic, another version.
    Version(u8),
    /// Not written by us.
    Foreign,
}

/// Reads and classifies the header of `file`, which is `len` bytes long.
pub fn check_header(file: &File, len: u64) -> io::Result<HeaderCheck> {
    let mut head = [0u8; HEADER_LEN as usize];
    let have = len.min(HEADER_LEN) as usize;
    file.read_exact_at(&mut head[..have], 0)?;
    let head = &head[..have];
    Ok(if head == HEADER {
        HeaderCheck::Ours(Framing::V2)
    } else if head.len() == HEADER.len() && head.starts_with(MAGIC) && head[MAGIC.len()] == 1 {
        HeaderCheck::Ours(Framing::V1)
    } else if HEADER.starts_with(head) {
        HeaderCheck::Torn
    } else if head.len() == HEADER.len() && head.starts_with(MAGIC) {
        HeaderCheck::Version(head[MAGIC.len()])
    } else {
        HeaderCheck::Foreign
    })
}

/// Creates segment `number` in `dir` with its header; never replaces an existing file.
pub fn create(dir: &Path, number: u64) -> Result<(PathBuf, File), SpoolError> {
    let path = dir.join(file_name(number));
    let file = crate::private_fs::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(SpoolError::io("create", &path))?;
    if let Err(source) = file.write_all_at(&HEADER, 0) {
        // Nothing in it yet: removing it leaves the directory as it was.
        let _ = std::fs::remove_file(&path);
        return Err(SpoolError::Write {
            path,
            offset: 0,
            source,
        });
    }
    Ok((path, file))
}

/// Opens an existing segment for reading and writing.
pub fn open(path: &Path) -> Result<File, SpoolError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(SpoolError::io("open", path))
}

/// Why a record could not be read back.
#[derive(Debug)]
pub enum ReadFailure {
    /// The bytes are not the record that was written.
    Invalid(Invalid),
    /// The OS could not read them.
    Io(io::Error),
}

/// Reads the record at `offset` of `file` (records framed as `framing`), whose records end at
/// `end`, into `buf`; returns the offset just after it.
pub fn read_record(
    file: &File,
    framing: Framing,
    offset: u64,
    end: u64,
    buf: &mut Vec<u8>,
) -> Result<u64, ReadFailure> {
    let head_len = framing.header_len();
    let mut head = [0u8; record::HEADER_LEN as usize];
    let room = end.saturating_sub(offset);
    let have = room.min(head_len) as usize;
    file.read_exact_at(&mut head[..have], offset)
        .map_err(short_is_invalid)?;
    let header =
        record::parse_framed(framing, &head[..have], room).map_err(ReadFailure::Invalid)?;
    buf.clear();
    buf.resize(header.len as usize, 0);
    file.read_exact_at(buf, offset + head_len)
        .map_err(short_is_invalid)?;
    record::verify(header, buf).map_err(ReadFailure::Invalid)?;
    Ok(offset + head_len + u64::from(header.len))
}

/// Where the next intact record starts after damage at `from` (searching `(from, end)`), and
/// how many intact records there are from there to `end`; `None` when there is none (or the
/// segment's format has no sync marker to find one by).
pub fn resync(
    file: &File,
    framing: Framing,
    from: u64,
    end: u64,
) -> io::Result<Option<(u64, u64)>> {
    if framing == Framing::V1 || end <= from + 1 {
        return Ok(None);
    }
    let mut rest = vec![0u8; (end - from - 1) as usize];
    file.read_exact_at(&mut rest, from + 1)?;
    Ok(record::find_intact(&rest).map(|at| {
        let intact = record::count_intact(&rest[at..]);
        (from + 1 + at as u64, intact)
    }))
}

/// A file shorter than what was written is a damaged record, not a transient error.
fn short_is_invalid(e: io::Error) -> ReadFailure {
    if e.kind() == ErrorKind::UnexpectedEof {
        ReadFailure::Invalid(Invalid::ShortHeader { have: 0 })
    } else {
        ReadFailure::Io(e)
    }
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;
