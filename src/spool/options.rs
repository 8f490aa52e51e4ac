//! How a spool is sized, what it gives up when full, and how hard it pushes data to the medium.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// What to do when a new record would exceed `max_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropPolicy {
    /// Delete whole oldest segments until the new record fits: recent data is worth more.
    #[default]
    DropOldest,
    /// Refuse the new record: what is already spooled is kept intact.
    DropNewest,
}

/// When appended records are forced to the medium.
///
/// Every append is one `write` system call, so a record survives `kill -9` whatever the policy
/// (the page cache belongs to the kernel). The policy only decides what survives power loss:
/// `batch` loses nothing that `append` returned, `interval` loses at most the last interval,
/// `never` whatever the kernel had not written back yet (typically up to 30 s). The price is
/// one `fdatasync` per record for `batch`, one per interval for `interval`; on an SD card each
/// sync also costs wear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// `fdatasync` after every append.
    Batch,
    /// Sync at most once per `fsync_interval`, from [`super::Spool::tick`].
    #[default]
    Interval,
    /// Leave write-back to the OS (explicit [`super::Spool::sync`] still syncs).
    Never,
}

/// Where a spool lives and how it behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolOptions {
    /// Directory holding the segment files and the ack cursor (created if missing).
    pub dir: PathBuf,
    /// Bound on the bytes on disk, segment headers included.
    pub max_bytes: u64,
    /// A segment is closed once the next record would take it past this size.
    pub segment_bytes: u64,
    /// What to give up when full.
    pub policy: DropPolicy,
    /// When appended data is forced to the medium.
    pub fsync: FsyncPolicy,
    /// Period of syncs under [`FsyncPolicy::Interval`] and of ack-cursor saves under every policy.
    pub fsync_interval: Duration,
}

/// Smallest segment [`SpoolOptions::new`] picks: fewer, bigger files for small spools.
const MIN_SEGMENT: u64 = 64 * 1024;
/// Largest segment [`SpoolOptions::new`] picks: a dropped or replayed segment stays a small share.
const MAX_SEGMENT: u64 = 8 * 1024 * 1024;

impl SpoolOptions {
    /// Defaults around `max_bytes`: 16 segments (64 KiB to 8 MiB each), drop oldest, sync every second.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        SpoolOptions {
            dir: dir.into(),
            max_bytes,
            segment_bytes: (max_bytes / 16).clamp(MIN_SEGMENT, MAX_SEGMENT),
            policy: DropPolicy::default(),
            fsync: FsyncPolicy::default(),
            fsync_interval: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
