//! The writing side: append within the byte budget (dropping by policy), roll segments, sync.

use super::cursor::{self, Position};
use super::{
    record, segment, Appended, DropPolicy, FsyncPolicy, Live, RecordId, Spool, SpoolError,
};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::Instant;

impl Spool {
    /// Appends `payload` as the newest record, dropping by policy if the spool is full.
    ///
    /// A payload that can never fit is refused with an error naming its size. On any other
    /// error the record is not in the spool (the segment is cut back, or closed if even that
    /// fails; a record left behind a failed cut may come back after a restart, as a duplicate),
    /// and records dropped to make room for it stay counted in [`Spool::dropped`].
    pub fn append(&mut self, payload: &[u8]) -> Result<Appended, SpoolError> {
        let max =
            record::MAX_PAYLOAD.min(self.opts.max_bytes - segment::HEADER_LEN - record::HEADER_LEN);
        if payload.len() as u64 > max {
            return Err(SpoolError::TooLarge {
                dir: self.opts.dir.clone(),
                size: payload.len(),
                max,
            });
        }
        let size = record::HEADER_LEN + payload.len() as u64;
        let mut dropped = 0;
        // Ends: each round deletes a segment, and an empty spool has room (checked above).
        while self.bytes() + self.room_needed(size) > self.opts.max_bytes {
            match self.opts.policy {
                DropPolicy::DropNewest => {
                    self.dropped += 1;
                    tracing::debug!(size = payload.len(), "spool full: new record refused");
                    return Ok(Appended {
                        id: None,
                        dropped: 1,
                    });
                }
                DropPolicy::DropOldest => dropped += self.drop_oldest(),
            }
        }
        if !self.fits_current(size) {
            self.roll()?;
        }
        let (Some(writer), Some(seg)) = (&self.writer, self.segments.back_mut()) else {
            unreachable!("roll() leaves a writable newest segment");
        };
        let offset = seg.len;
        record::encode(payload, &mut self.scratch);
        if let Err(source) = writer.write_all_at(&self.scratch, offset) {
            let path = seg.path.clone();
            self.cut_back(offset);
            return Err(SpoolError::Write {
                path,
                offset,
                source,
            });
        }
        seg.len += size;
        seg.records += 1;
        seg.dirty = true;
        let id = RecordId(Position {
            segment: seg.number,
            offset,
        });
        if self.opts.fsync == FsyncPolicy::Batch {
            if let Err(e) = self.sync_writer() {
                self.unappend(size);
                return Err(e);
            }
        }
        Ok(Appended {
            id: Some(id),
            dropped,
        })
    }

    /// Forces appended data, new directory entries and the ack cursor to disk now.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        self.sync_data()?;
        self.save_cursor(true, true)?;
        self.last_tick = Instant::now();
        Ok(())
    }

    /// Whether [`Spool::tick`] has nothing to do: every write synced (or left to the OS under
    /// `fsync = "never"`) and the ack cursor saved where it stands, so callers can stop ticking
    /// until the next append or acknowledgement.
    pub fn settled(&self) -> bool {
        let synced = self.opts.fsync == FsyncPolicy::Never
            || (!self.dir_dirty && self.segments.iter().all(|s| !s.dirty));
        synced && self.saved.is_some_and(|c| c.acked == self.frontier())
    }

    /// Periodic work, at most once per `fsync_interval`: syncs data under
    /// [`FsyncPolicy::Interval`] and saves the ack cursor if it moved.
    pub fn tick(&mut self) -> Result<(), SpoolError> {
        if self.last_tick.elapsed() < self.opts.fsync_interval {
            return Ok(());
        }
        self.last_tick = Instant::now();
        if self.opts.fsync == FsyncPolicy::Interval {
            self.sync_data()?;
        }
        self.save_cursor(self.durable_cursor(), false)
    }

    /// Syncs every segment written since its last sync, and the directory if a segment was
    /// created.
    pub(super) fn sync_data(&mut self) -> Result<(), SpoolError> {
        for index in 0..self.segments.len() {
            if !self.segments[index].dirty {
                continue;
            }
            let path = &self.segments[index].path;
            let synced = match (&self.writer, self.is_writer(index)) {
                (Some(writer), true) => writer.sync_data(),
                _ => File::open(path).and_then(|f| f.sync_data()),
            };
            synced.map_err(SpoolError::io("sync", path))?;
            self.segments[index].dirty = false;
        }
        self.sync_dir()
    }

    /// Syncs the directory if a segment was created since the last time.
    fn sync_dir(&mut self) -> Result<(), SpoolError> {
        if self.dir_dirty {
            cursor::sync_dir(&self.opts.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Makes the record just written durable (policy `batch`).
    fn sync_writer(&mut self) -> Result<(), SpoolError> {
        if let (Some(writer), Some(seg)) = (&self.writer, self.segments.back_mut()) {
            writer
                .sync_data()
                .map_err(SpoolError::io("sync", &seg.path))?;
            seg.dirty = false;
        }
        self.sync_dir()
    }

    /// Whether a record of `size` bytes goes into the current segment.
    fn fits_current(&self, size: u64) -> bool {
        match (&self.writer, self.segments.back()) {
            (Some(_), Some(seg)) => seg.records == 0 || seg.len + size <= self.opts.segment_bytes,
            _ => false,
        }
    }

    /// Bytes the disk use grows by for a record of `size` bytes.
    fn room_needed(&self, size: u64) -> u64 {
        if self.fits_current(size) {
            size
        } else {
            segment::HEADER_LEN + size
        }
    }

    /// Closes the current segment and starts the next one.
    fn roll(&mut self) -> Result<(), SpoolError> {
        if self.writer.take().is_some() {
            // A closed segment with nothing left to hand out (e.g. a failed first append).
            if let Some(last) = self.segments.back() {
                if last.done == last.records {
                    self.remove_segment(self.segments.len() - 1);
                }
            }
        }
        let number = self.next_number;
        let (path, file) = segment::create(&self.opts.dir, number)?;
        self.next_number += 1;
        self.dir_dirty = true;
        self.segments.push_back(Live {
            number,
            path,
            len: segment::HEADER_LEN,
            records: 0,
            done: 0,
            dirty: true,
            framing: record::Framing::V2,
            holes: Vec::new(),
        });
        self.writer = Some(file);
        Ok(())
    }

    /// Takes back the record of `size` bytes just appended, which could not be made durable.
    fn unappend(&mut self, size: u64) {
        if let Some(seg) = self.segments.back_mut() {
            seg.len -= size;
            seg.records -= 1;
            let offset = seg.len;
            self.cut_back(offset);
        }
    }

    /// Removes a failed append's partial record; if even that fails, closes the segment so
    /// nothing is ever appended behind the debris.
    fn cut_back(&mut self, offset: u64) {
        let (Some(writer), Some(seg)) = (&self.writer, self.segments.back()) else {
            return;
        };
        if let Err(e) = writer.set_len(offset) {
            tracing::warn!(file = %seg.path.display(), offset, error = %e,
                "spool: cannot cut a failed append back; closing the segment");
            self.writer = None;
        }
    }

    /// Deletes the oldest segment to make room; returns the records lost with it (those not
    /// yet acknowledged). Acks still to come for its records are then ignored.
    fn drop_oldest(&mut self) -> u64 {
        let Some(seg) = self.remove_segment(0) else {
            return 0;
        };
        let number = seg.number;
        self.in_flight.retain(|id| id.0.segment != number);
        self.redo.retain(|id| id.0.segment != number);
        let lost = seg.records - seg.done;
        self.dropped += lost;
        tracing::warn!(file = %seg.path.display(), records = lost,
            "spool full: oldest segment dropped");
        lost
    }
}
