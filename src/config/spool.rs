//! The `[spool]` section: the on-disk store-and-forward spool under `<state_dir>/spool`.

use super::changeset::ChangeSet;
use super::error::Refusals;
use crate::spool::{DropPolicy, FsyncPolicy};
use serde::{Deserialize, Serialize};

/// Smallest spool: one segment of 64 KiB.
const MIN_SPOOL_BYTES: u64 = 64 * 1024;
/// Largest spool: 1 TiB, far beyond any SD card.
const MAX_SPOOL_BYTES: u64 = 1 << 40;

/// The on-disk spool under `<state_dir>/spool`: batches the broker has not acknowledged wait
/// there through outages and restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Spool batches to disk; false: unacknowledged batches wait in memory only (bounded by
    /// `batch.queue_batches`) and are lost with the process.
    pub enabled: bool,
    /// Bound on the spool's size on disk (bytes).
    pub max_bytes: u64,
    /// What is given up when the spool is full.
    pub policy: DropPolicy,
    /// Spooled batches published per second at most after a reconnect, so a backlog does not
    /// starve live batches.
    pub replay_rate: u32,
    /// When spooled batches are forced to the medium.
    pub fsync: FsyncPolicy,
    /// Period of syncs under `fsync = "interval"` (ms).
    pub fsync_interval_ms: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            enabled: true,
            max_bytes: 64 << 20,
            policy: DropPolicy::DropOldest,
            replay_rate: 500,
            fsync: FsyncPolicy::Interval,
            fsync_interval_ms: 1000,
        }
    }
}

impl SpoolConfig {
    /// Checks the section's rules.
    pub(super) fn validate(&self, r: &mut Refusals) {
        let sp = self;
        r.check(
            (MIN_SPOOL_BYTES..=MAX_SPOOL_BYTES).contains(&sp.max_bytes),
            "spool.max_bytes",
            format!(
                "{} is out of range ({MIN_SPOOL_BYTES}-{MAX_SPOOL_BYTES} bytes)",
                sp.max_bytes
            ),
        );
        r.check(
            (1..=100_000).contains(&sp.replay_rate),
            "spool.replay_rate",
            format!("{} is out of range (1-100000 batches/s)", sp.replay_rate),
        );
        r.check(
            (10..=60_000).contains(&sp.fsync_interval_ms),
            "spool.fsync_interval_ms",
            format!("{} is out of range (10-60000 ms)", sp.fsync_interval_ms),
        );
    }

    /// What going from `self` to `new` means. Every key is named: a new one does not compile
    /// until its change is classified here.
    pub(super) fn classify(&self, new: &SpoolConfig, c: &mut ChangeSet) {
        let SpoolConfig {
            enabled,
            max_bytes,
            policy,
            replay_rate,
            fsync,
            fsync_interval_ms,
        } = self;
        // The publisher reopens the spool with them: nothing spooled is lost, batches in flight
        // are resent.
        c.spool_changed |= *enabled != new.enabled
            || *max_bytes != new.max_bytes
            || *policy != new.policy
            || *replay_rate != new.replay_rate
            || *fsync != new.fsync
            || *fsync_interval_ms != new.fsync_interval_ms;
    }
}
