//! Start-up scan: every segment oldest first, each record's frame and CRC checked. Damage
//! followed by an intact record (bit rot in the middle) is skipped up to that record, found by
//! its sync marker, and counted; damage with no intact record after it is the tail of a write
//! torn by a crash or power loss, and the segment is cut there. Every intact record is kept.

use super::cursor::{self, Cursor};
use super::record::{self, Framing, Invalid};
use super::segment::{self, HeaderCheck};
use super::{Live, ReadPos, Recovery, SpoolError, Torn};
use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The spool's state as found on disk.
pub struct Recovered {
    /// Segments holding records not yet acknowledged, oldest first.
    pub segments: VecDeque<Live>,
    /// The first record to hand out.
    pub read: ReadPos,
    /// Number for the next segment created.
    pub next_number: u64,
    /// What was found, for the caller and the log.
    pub report: Recovery,
}

/// Scans the segments in `dir`, cutting torn tails and deleting segments the `cursor` says are
/// fully acknowledged. Files that are not segments are left alone.
pub fn recover(dir: &Path, cursor: Option<Cursor>) -> Result<Recovered, SpoolError> {
    let acked = cursor.map(|c| c.acked);
    let mut segments = VecDeque::new();
    let mut report = Recovery::default();
    let mut read = None;
    let mut max_seen = None;
    for (number, path) in segment_files(dir)? {
        max_seen = Some(number);
        let file = segment::open(&path)?;
        let len = file_len(&file, &path)?;
        let framing =
            match segment::check_header(&file, len).map_err(SpoolError::io("read", &path))? {
                HeaderCheck::Ours(framing) => framing,
                HeaderCheck::Foreign => {
                    tracing::warn!(file = %path.display(),
                    "spool: a file with a segment name but no segment header; left alone");
                    continue;
                }
                HeaderCheck::Version(version) => {
                    // Unreadable here (a newer edgetap wrote it): kept for that version, out
                    // of the way, so this spool goes on working.
                    let reason = format!(
                        "segment format version {version}; this build reads 1 to {}",
                        segment::VERSION
                    );
                    set_aside(&mut report, &path, &reason);
                    continue;
                }
                HeaderCheck::Torn => {
                    cut(
                        &mut report,
                        path.clone(),
                        0,
                        len,
                        "segment header incomplete".into(),
                    );
                    remove(&path);
                    continue;
                }
            };
        let acked_before = match acked {
            Some(c) if number < c.segment => {
                tracing::debug!(file = %path.display(), "spool: removing an acknowledged segment");
                remove(&path);
                continue;
            }
            Some(c) if number == c.segment => c.offset,
            _ => 0,
        };
        let scan = scan(&file, &path, framing, len, acked_before)?;
        for (from, to, why) in &scan.holes {
            tracing::warn!(file = %path.display(), offset = from, skipped_bytes = to - from,
                reason = %why, "spool: damaged bytes skipped; the records after them are kept");
            report.skipped.push(Torn {
                file: path.clone(),
                offset: *from,
                cut_bytes: to - from,
                reason: why.to_string(),
            });
        }
        if let Some((offset, why)) = scan.invalid {
            file.set_len(offset)
                .and_then(|()| file.sync_all())
                .map_err(SpoolError::io("truncate", &path))?;
            cut(
                &mut report,
                path.clone(),
                offset,
                len - offset,
                why.to_string(),
            );
        }
        if scan.done == scan.records {
            remove(&path);
            continue;
        }
        read.get_or_insert(ReadPos {
            segment: number,
            offset: scan.first_unacked,
            index: scan.done,
        });
        report.segments += 1;
        report.records += scan.records - scan.done;
        report.bytes += scan.end;
        segments.push_back(Live {
            number,
            path,
            len: scan.end,
            records: scan.records,
            done: scan.done,
            dirty: false,
            framing,
            holes: scan.holes.iter().map(|&(from, to, _)| (from, to)).collect(),
        });
    }
    // Never reuse a number: not the cursor's (its offset would apply to new records), not one
    // of a segment deleted since (an id still held by the caller could name a new record).
    let next_number = max_seen
        .map(|n| n.saturating_add(1))
        .max(acked.map(|c| c.segment.saturating_add(1)))
        .max(cursor.map(|c| c.next_segment))
        .unwrap_or(0);
    Ok(Recovered {
        segments,
        read: read.unwrap_or(ReadPos::start_of(next_number)),
        next_number,
        report,
    })
}

/// Segment-named files in `dir`, oldest first; anything else is skipped (never touched).
fn segment_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, SpoolError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(SpoolError::io("list", dir))? {
        let entry = entry.map_err(SpoolError::io("list", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        match segment::parse_name(&name) {
            Some(number) => found.push((number, entry.path())),
            None if name == cursor::FILE || name == cursor::TMP_FILE => {}
            None => tracing::debug!(file = %entry.path().display(),
                "spool: not a segment; left alone"),
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// The length of an open file.
fn file_len(file: &File, path: &Path) -> Result<u64, SpoolError> {
    Ok(file.metadata().map_err(SpoolError::io("stat", path))?.len())
}

/// Records a cut in the report and the log.
fn cut(report: &mut Recovery, file: PathBuf, offset: u64, cut_bytes: u64, reason: String) {
    tracing::warn!(file = %file.display(), offset, cut_bytes, %reason,
        "spool: torn record cut off");
    report.torn.push(Torn {
        file,
        offset,
        cut_bytes,
        reason,
    });
}

/// Suffix given to a segment set aside.
pub const SET_ASIDE_SUFFIX: &str = ".unreadable";

/// Renames a segment this build cannot read to `<name>.unreadable` (no longer a segment name,
/// so it is never scanned again), logs and counts it; a failed rename leaves it where it is.
fn set_aside(report: &mut Recovery, path: &Path, reason: &str) {
    let mut aside = path.as_os_str().to_owned();
    aside.push(SET_ASIDE_SUFFIX);
    let aside = PathBuf::from(aside);
    match fs::rename(path, &aside) {
        Ok(()) => tracing::warn!(file = %path.display(), moved_to = %aside.display(), %reason,
            "spool: unreadable segment set aside; spooling goes on"),
        Err(e) => tracing::warn!(file = %path.display(), %reason, error = %e,
            "spool: unreadable segment skipped (cannot rename it)"),
    }
    report.set_aside.push(path.to_path_buf());
}

/// Deletes a segment of ours that holds nothing to replay; a failure costs only disk space.
fn remove(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        tracing::warn!(file = %path.display(), error = %e, "spool: cannot remove a spent segment");
    }
}

/// What one segment's records look like.
struct Scan {
    /// End of the last intact record.
    end: u64,
    /// Intact records.
    records: u64,
    /// Intact records wholly before the cursor offset.
    done: u64,
    /// Offset of the first record not before the cursor offset (`end` if none).
    first_unacked: u64,
    /// Damage with no intact record after it, which ends the segment.
    invalid: Option<(u64, Invalid)>,
    /// Damaged ranges `[from, to)` followed by an intact record.
    holes: Vec<(u64, u64, Invalid)>,
}

/// Walks the records of `file` (`len` bytes), counting those that end by `acked_before`.
fn scan(
    file: &File,
    path: &Path,
    framing: Framing,
    len: u64,
    acked_before: u64,
) -> Result<Scan, SpoolError> {
    let read_err = |offset: u64| {
        let path = path.to_path_buf();
        move |source| SpoolError::Read {
            path,
            offset,
            source,
        }
    };
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    reader
        .seek(SeekFrom::Start(segment::HEADER_LEN))
        .map_err(read_err(segment::HEADER_LEN))?;
    let (mut offset, mut records, mut done) = (segment::HEADER_LEN, 0, 0);
    let mut first_unacked = None;
    let mut payload = Vec::new();
    let mut holes = Vec::new();
    let head_len = framing.header_len();
    let invalid = loop {
        let room = len - offset;
        if room == 0 {
            break None;
        }
        let mut head = [0u8; record::HEADER_LEN as usize];
        let have = room.min(head_len) as usize;
        reader
            .read_exact(&mut head[..have])
            .map_err(read_err(offset))?;
        let mut checked = record::parse_framed(framing, &head[..have], room);
        if let Ok(header) = checked {
            // parse_framed checked that the payload fits in the file.
            payload.resize(header.len as usize, 0);
            reader.read_exact(&mut payload).map_err(read_err(offset))?;
            checked = record::verify(header, &payload).map(|()| header);
        }
        let header = match checked {
            Ok(header) => header,
            Err(why) => {
                match segment::resync(file, framing, offset, len).map_err(read_err(offset))? {
                    Some((next, _)) => {
                        holes.push((offset, next, why));
                        offset = next;
                        reader.seek(SeekFrom::Start(next)).map_err(read_err(next))?;
                        continue;
                    }
                    None => break Some((offset, why)),
                }
            }
        };
        let end = offset + head_len + u64::from(header.len);
        if end <= acked_before {
            done += 1;
        } else {
            first_unacked.get_or_insert(offset);
        }
        records += 1;
        offset = end;
    };
    Ok(Scan {
        end: offset,
        records,
        done,
        first_unacked: first_unacked.unwrap_or(offset),
        invalid,
        holes,
    })
}
