//! On-disk store-and-forward spool: batches the broker has not accepted yet, kept in order across
//! disconnections, crashes and power loss, within a byte budget.
//!
//! Layout: a directory of append-only segment files (see [`segment`]), each a header then records
//! framed with their length and a CRC-32C (see [`record`]), plus a small ack cursor (see
//! [`cursor`]). Records are handed out oldest first by [`Spool::next`]; a segment is deleted once
//! every record in it is acknowledged ([`Spool::ack`]) or dropped. On open, every segment is
//! scanned and a torn or corrupt record ends its segment, which is cut there; everything before
//! it is replayed. New records always go to a fresh segment after open, so nothing is ever
//! appended behind a cut or behind the cursor.
//!
//! Memory: per-segment counters and the ids handed out but not acknowledged, never an index of
//! every record, so a full spool of tiny records costs no more RAM than a few big ones.
//!
//! Durability is [`FsyncPolicy`]'s trade-off: every append is one `write`, so `kill -9` never
//! loses an appended record; what power loss may take depends on the policy.

mod cursor;
mod error;
mod options;
mod read;
mod record;
mod recover;
mod segment;
mod write;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use error::SpoolError;
pub use options::{DropPolicy, FsyncPolicy, SpoolOptions};

use cursor::{Cursor, Position};
use std::collections::{BTreeSet, VecDeque};
use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

/// A record's place in the spool; ordered (older < newer), unique for the life of the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(Position);

/// What [`Spool::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The new record, or `None` when [`DropPolicy::DropNewest`] refused it.
    pub id: Option<RecordId>,
    /// Records dropped by this call (the refused one, or those in the oldest segments deleted).
    pub dropped: u64,
}

/// What [`Spool::open`] found on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Segments kept for replay.
    pub segments: usize,
    /// Records to replay (those the ack cursor already covered are not counted).
    pub records: u64,
    /// Bytes on disk after recovery.
    pub bytes: u64,
    /// Torn or corrupt records cut off at the end of a segment, oldest first.
    pub torn: Vec<Torn>,
    /// Segments this build cannot read (another format version), renamed with an
    /// `.unreadable` suffix and left alone.
    pub set_aside: Vec<PathBuf>,
    /// Damaged bytes in the middle of a segment, skipped up to the next intact record (every
    /// record after them is kept), oldest first; `cut_bytes` is the length skipped.
    pub skipped: Vec<Torn>,
}

/// A damaged record found on open, and the bytes cut off from it to the end of its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torn {
    /// The segment file.
    pub file: PathBuf,
    /// Where the damaged record started (the file's new length).
    pub offset: u64,
    /// Bytes removed.
    pub cut_bytes: u64,
    /// What was wrong with the record.
    pub reason: String,
}

/// A segment on disk, as far as the spool keeps track of it.
struct Live {
    /// Its number (its name).
    number: u64,
    /// Its file.
    path: PathBuf,
    /// End of its last whole record; nothing past it is ever read.
    len: u64,
    /// Records in it.
    records: u64,
    /// Records in it acknowledged or lost; at `records` the segment is deleted.
    done: u64,
    /// Written since its last sync.
    dirty: bool,
    /// How its records are framed (its format version).
    framing: record::Framing,
    /// Damaged byte ranges `[from, to)` between intact records, found on open: skipped.
    holes: Vec<(u64, u64)>,
}

/// The next record never handed out by [`Spool::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReadPos {
    /// Its segment (possibly one already deleted, or the next one to be created).
    segment: u64,
    /// Its offset.
    offset: u64,
    /// Records in the segment before it, to count what is lost if the segment breaks.
    index: u64,
}

impl ReadPos {
    /// The first record of segment `number`.
    fn start_of(number: u64) -> Self {
        ReadPos {
            segment: number,
            offset: segment::HEADER_LEN,
            index: 0,
        }
    }
}

/// The store: append batches, hand them out oldest first, forget them once acknowledged.
pub struct Spool {
    /// As opened.
    opts: SpoolOptions,
    /// Segments on disk, oldest first.
    segments: VecDeque<Live>,
    /// The newest segment, while it still takes records.
    writer: Option<File>,
    /// Where [`Spool::next`] continues.
    read: ReadPos,
    /// A read handle on one segment, kept between calls to [`Spool::next`].
    reader: Option<(u64, File)>,
    /// Handed out, not acknowledged.
    in_flight: BTreeSet<RecordId>,
    /// Handed out before a [`Spool::rewind`]: handed out again before anything new.
    redo: BTreeSet<RecordId>,
    /// Number of the next segment created.
    next_number: u64,
    /// Records dropped since open.
    dropped: u64,
    /// One framing buffer for every append.
    scratch: Vec<u8>,
    /// A segment was created since the directory was last synced.
    dir_dirty: bool,
    /// Last periodic sync or cursor save.
    last_tick: Instant,
    /// The cursor as last saved.
    saved: Option<Cursor>,
}

impl Spool {
    /// Opens (creating if needed) the spool in `opts.dir`, recovering what is there.
    pub fn open(opts: SpoolOptions) -> Result<(Spool, Recovery), SpoolError> {
        let smallest = segment::HEADER_LEN + record::HEADER_LEN;
        if opts.max_bytes < smallest {
            return Err(SpoolError::Options {
                field: "max_bytes",
                reason: format!("{} is below the {smallest}-byte minimum", opts.max_bytes),
            });
        }
        if opts.segment_bytes < smallest {
            return Err(SpoolError::Options {
                field: "segment_bytes",
                reason: format!(
                    "{} is below the {smallest}-byte minimum",
                    opts.segment_bytes
                ),
            });
        }
        crate::private_fs::create_dir_all(&opts.dir)
            .map_err(SpoolError::io("create", &opts.dir))?;
        let saved = cursor::load(&opts.dir)?;
        let found = recover::recover(&opts.dir, saved)?;
        let report = found.report;
        tracing::info!(dir = %opts.dir.display(), segments = report.segments,
            records = report.records, bytes = report.bytes, torn = report.torn.len(),
            "spool opened");
        let mut spool = Spool {
            opts,
            segments: found.segments,
            writer: None,
            read: found.read,
            reader: None,
            in_flight: BTreeSet::new(),
            redo: BTreeSet::new(),
            next_number: found.next_number,
            dropped: 0,
            scratch: Vec::new(),
            dir_dirty: false,
            last_tick: Instant::now(),
            saved,
        };
        // Recovery may have deleted the newest segments: record the numbers they used.
        spool.save_cursor(spool.durable_cursor(), false)?;
        Ok((spool, report))
    }

    /// Records not acknowledged.
    pub fn pending(&self) -> u64 {
        self.segments.iter().map(|s| s.records - s.done).sum()
    }

    /// Records not handed out by [`Spool::next`] (including those a rewind will hand out again).
    pub fn unsent(&self) -> u64 {
        self.pending() - self.in_flight.len() as u64
    }

    /// Bytes on disk, segment headers included.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Records dropped since open: refused, deleted with their segment to make room, or corrupt.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The index in `segments` of segment `number`.
    fn find(&self, number: u64) -> Option<usize> {
        self.segments
            .binary_search_by_key(&number, |s| s.number)
            .ok()
    }

    /// Whether `index` is the segment still taking records.
    fn is_writer(&self, index: usize) -> bool {
        self.writer.is_some() && index + 1 == self.segments.len()
    }

    /// Deletes the segment at `index`, which holds nothing left to hand out or keep.
    fn remove_segment(&mut self, index: usize) -> Option<Live> {
        if self.is_writer(index) {
            self.writer = None;
        }
        let seg = self.segments.remove(index)?;
        if self.reader.as_ref().is_some_and(|(n, _)| *n == seg.number) {
            self.reader = None;
        }
        if let Err(e) = std::fs::remove_file(&seg.path) {
            tracing::warn!(file = %seg.path.display(), error = %e,
                "spool: cannot remove a spent segment");
        }
        Some(seg)
    }

    /// Everything before this position is acknowledged (or dropped).
    fn frontier(&self) -> Position {
        let read = Position {
            segment: self.read.segment,
            offset: self.read.offset,
        };
        let oldest = |set: &BTreeSet<RecordId>| set.first().map(|id| id.0);
        [oldest(&self.in_flight), oldest(&self.redo)]
            .into_iter()
            .flatten()
            .fold(read, Position::min)
    }

    /// Saves the ack cursor if it moved (or always, with `force`).
    fn save_cursor(&mut self, durable: bool, force: bool) -> Result<(), SpoolError> {
        let now = Cursor {
            acked: self.frontier(),
            next_segment: self.next_number,
        };
        if !force && self.saved == Some(now) {
            return Ok(());
        }
        cursor::save(&self.opts.dir, now, durable)?;
        self.saved = Some(now);
        Ok(())
    }

    /// Whether cursor saves outside [`Spool::sync`] are synced.
    fn durable_cursor(&self) -> bool {
        self.opts.fsync != FsyncPolicy::Never
    }
}

impl Drop for Spool {
    /// A clean close: data synced (unless `fsync = never`) and the cursor saved, so a restart
    /// replays nothing already acknowledged.
    fn drop(&mut self) {
        let durable = self.durable_cursor();
        let synced = if durable { self.sync_data() } else { Ok(()) };
        if let Err(e) = synced.and_then(|()| self.save_cursor(durable, false)) {
            tracing::warn!(error = %e, "spool: closing without a full sync");
        }
    }
}
