//! The reading side: hand records out oldest first, take acknowledgements, rewind.

use super::cursor::Position;
use super::segment::{self, ReadFailure};
use super::{ReadPos, RecordId, Spool, SpoolError};
use std::fs::File;

impl Spool {
    /// The next record not yet handed out, oldest first (records handed out before a
    /// [`Spool::rewind`] come first); its payload replaces `buf`'s content.
    ///
    /// [`SpoolError::Read`] leaves the record next in line. [`SpoolError::Corrupt`] means the
    /// record changed on disk since it was written: it, and the rest of its segment when it
    /// cannot be framed any more, are dropped and counted; call `next` again for what follows.
    pub fn next(&mut self, buf: &mut Vec<u8>) -> Result<Option<RecordId>, SpoolError> {
        while let Some(&id) = self.redo.first() {
            match self.find(id.0.segment) {
                Some(index) => return self.next_again(index, id, buf).map(Some),
                // Cannot happen (dropping a segment forgets its ids): forgetting it is safe.
                None => {
                    self.redo.remove(&id);
                }
            }
        }
        let index = loop {
            let Some(index) = self.locate_read() else {
                return Ok(None);
            };
            // Damage found on open between intact records: step over it.
            let hole = self.segments[index]
                .holes
                .iter()
                .find(|h| h.0 == self.read.offset);
            match hole {
                Some(&(_, to)) => self.read.offset = to,
                None => break index,
            }
        };
        let offset = self.read.offset;
        match self.read_at(index, offset, buf) {
            Ok(end) => {
                let id = RecordId(Position {
                    segment: self.read.segment,
                    offset,
                });
                self.read.offset = end;
                self.read.index += 1;
                self.in_flight.insert(id);
                Ok(Some(id))
            }
            Err(ReadFailure::Io(source)) => Err(SpoolError::Read {
                path: self.segments[index].path.clone(),
                offset,
                source,
            }),
            Err(ReadFailure::Invalid(why)) => {
                if let Some((to, intact)) = self.resync_after(index, offset) {
                    // Only the damaged records are lost: reading goes on at the next intact one.
                    let seg = &mut self.segments[index];
                    let lost = (seg.records - self.read.index).saturating_sub(intact);
                    seg.done += lost;
                    self.dropped += lost;
                    self.read.offset = to;
                    self.read.index += lost;
                    let path = seg.path.clone();
                    return Err(corrupt(path, offset, why, lost));
                }
                // No intact record after the damage: the rest of the segment is lost.
                let seg = &mut self.segments[index];
                let lost = seg.records - self.read.index;
                seg.done += lost;
                let (path, number) = (seg.path.clone(), seg.number);
                self.dropped += lost;
                if self.is_writer(index) {
                    self.writer = None;
                }
                self.read = ReadPos::start_of(number.saturating_add(1));
                self.retire_if_done(index);
                Err(corrupt(path, offset, why, lost))
            }
        }
    }

    /// The broker accepted record `id`: it will not be handed out again, and its segment is
    /// deleted once all its records are accepted. Ids not handed out (or dropped since) are
    /// ignored.
    pub fn ack(&mut self, id: RecordId) {
        if !(self.in_flight.remove(&id) || self.redo.remove(&id)) {
            return;
        }
        if let Some(index) = self.find(id.0.segment) {
            self.segments[index].done += 1;
            self.retire_if_done(index);
        }
    }

    /// The connection is lost: records handed out and not acknowledged will be handed out
    /// again by [`Spool::next`], in order, before any other.
    pub fn rewind(&mut self) {
        self.redo.append(&mut self.in_flight);
    }

    /// Hands out again record `id` (in the segment at `index`), handed out before a rewind.
    fn next_again(
        &mut self,
        index: usize,
        id: RecordId,
        buf: &mut Vec<u8>,
    ) -> Result<RecordId, SpoolError> {
        match self.read_at(index, id.0.offset, buf) {
            Ok(_) => {
                self.redo.remove(&id);
                self.in_flight.insert(id);
                Ok(id)
            }
            Err(ReadFailure::Io(source)) => Err(SpoolError::Read {
                path: self.segments[index].path.clone(),
                offset: id.0.offset,
                source,
            }),
            Err(ReadFailure::Invalid(why)) => {
                self.redo.remove(&id);
                self.segments[index].done += 1;
                self.dropped += 1;
                let path = self.segments[index].path.clone();
                self.retire_if_done(index);
                Err(corrupt(path, id.0.offset, why, 1))
            }
        }
    }

    /// Moves the read position to the next record never handed out; returns its segment's
    /// index, or `None` if every record has been handed out.
    fn locate_read(&mut self) -> Option<usize> {
        // Ends: every round moves to a later segment number or returns.
        loop {
            match self.find(self.read.segment) {
                Some(index) if self.read.offset < self.segments[index].len => return Some(index),
                // The segment still taking records: more may come here.
                Some(index) if self.is_writer(index) => return None,
                Some(_) => self.read = ReadPos::start_of(self.read.segment.saturating_add(1)),
                None => {
                    let after = self.segments.iter().find(|s| s.number > self.read.segment);
                    match after {
                        Some(seg) => self.read = ReadPos::start_of(seg.number),
                        None => {
                            self.read = ReadPos::start_of(self.next_number);
                            return None;
                        }
                    }
                }
            }
        }
    }

    /// Reads the record at `offset` of the segment at `index` into `buf`.
    fn read_at(
        &mut self,
        index: usize,
        offset: u64,
        buf: &mut Vec<u8>,
    ) -> Result<u64, ReadFailure> {
        let seg = &self.segments[index];
        if self.reader.as_ref().is_some_and(|(n, _)| *n != seg.number) {
            self.reader = None;
        }
        let file = match &mut self.reader {
            Some((_, file)) => &*file,
            slot @ None => {
                let file = File::open(&seg.path).map_err(ReadFailure::Io)?;
                &slot.insert((seg.number, file)).1
            }
        };
        segment::read_record(file, seg.framing, offset, seg.len, buf)
    }

    /// The next intact record after damage at `offset` of the segment at `index`, and the
    /// intact records from there on; `None` if there is none (or it cannot be searched).
    fn resync_after(&mut self, index: usize, offset: u64) -> Option<(u64, u64)> {
        let seg = &self.segments[index];
        let found = File::open(&seg.path)
            .and_then(|file| segment::resync(&file, seg.framing, offset, seg.len));
        match found {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(file = %seg.path.display(), error = %e,
                    "spool: cannot search past a damaged record");
                None
            }
        }
    }

    /// Deletes the segment at `index` if every record in it is acknowledged or lost (a segment
    /// still taking records is kept while empty), then saves the cursor.
    pub(super) fn retire_if_done(&mut self, index: usize) {
        let seg = &self.segments[index];
        if seg.done < seg.records || (seg.records == 0 && self.is_writer(index)) {
            return;
        }
        self.remove_segment(index);
        if let Err(e) = self.save_cursor(self.durable_cursor(), false) {
            tracing::warn!(error = %e, "spool: cannot save the ack cursor");
        }
    }
}

/// The error for a record that does not read back as written, logged as it costs data.
fn corrupt(
    path: std::path::PathBuf,
    offset: u64,
    why: super::record::Invalid,
    lost: u64,
) -> SpoolError {
    tracing::error!(file = %path.display(), offset, reason = %why, lost,
        "spool: corrupt record; dropped");
    SpoolError::Corrupt {
        path,
        offset,
        reason: why.to_string(),
        lost,
    }
}
