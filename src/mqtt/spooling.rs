//! The on-disk spool as the publisher uses it: what it holds, the rate its backlog is
//! replayed at, and the record taken out for replay that the client has not taken yet.
//!
//! * Spooled batches are published oldest first with their original `run` and `seq` (the spool
//!   holds the payload as first encoded), at most `spool.replay_rate` per second with a
//!   one-second burst: a short outage's backlog goes out at once, ahead of the live batches; a
//!   longer one is interleaved with live batches at the replay rate, so a backlog never starves
//!   live data ([`Backlog::ahead`]). Each is acknowledged in the spool on its PUBACK; a segment
//!   goes once all of it is acknowledged.
//! * Which batches go to the spool is decided by `batches.rs`, which owns the backlog.
//!
//! Spool I/O is a write into the page cache (plus an `fdatasync` under `fsync = "batch"`), done
//! inline on the publisher task: it never blocks sampling, which only ever talks to the queue.
//! Time is passed in, never read here.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tracing::{error, info, warn};

use crate::config::SpoolConfig;
use crate::spool::{RecordId, Spool, SpoolError, SpoolOptions};
use crate::stats::{SpoolState, Stats};

/// Spooled batches submitted and not yet acknowledged, at most.
pub(crate) const SPOOL_WINDOW: usize = 16;
/// Least time between two logs of the same spool write failure.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// The spool plus the state of its replay.
pub(crate) struct Backlog {
    spool: Spool,
    /// Replay tokens: one per batch, refilled at `rate` per second, at most one second's worth.
    tokens: f64,
    rate: f64,
    refilled: Instant,
    /// A record taken from the spool that rumqttc's channel could not take yet.
    held: Option<(RecordId, Vec<u8>)>,
    /// Reused read buffer.
    buf: Vec<u8>,
    /// The last read from the spool failed: live batches stop waiting for it until one works.
    read_failed: bool,
    /// The last write failed: the spool is reported degraded until one works.
    write_failed: bool,
    last_error_log: Option<Instant>,
}

impl Backlog {
    /// Opens the spool of `cfg` in `dir` at `now`, reports what was recovered, and counts torn
    /// records.
    pub(crate) fn open(
        dir: PathBuf,
        cfg: &SpoolConfig,
        stats: &Stats,
        now: Instant,
    ) -> Result<Backlog, SpoolError> {
        let opts = SpoolOptions {
            policy: cfg.policy,
            fsync: cfg.fsync,
            fsync_interval: Duration::from_millis(cfg.fsync_interval_ms),
            ..SpoolOptions::new(dir, cfg.max_bytes)
        };
        let (spool, recovery) = Spool::open(opts)?;
        Stats::add(
            &stats.spool_torn,
            (recovery.torn.len() + recovery.skipped.len() + recovery.set_aside.len()) as u64,
        );
        if recovery.records > 0 {
            info!(
                batches = recovery.records,
                bytes = recovery.bytes,
                segments = recovery.segments,
                "spool: batches from an earlier run will be published after connecting"
            );
        }
        let mut b = Backlog {
            spool,
            tokens: 0.0,
            rate: 1.0,
            refilled: now,
            held: None,
            buf: Vec::new(),
            read_failed: false,
            write_failed: false,
            last_error_log: None,
        };
        b.set_rate(cfg.replay_rate);
        b.gauges(stats);
        Ok(b)
    }

    /// Changes the replay rate (batches per second, ≥ 1).
    pub(crate) fn set_rate(&mut self, per_s: u32) {
        self.rate = f64::from(per_s.max(1));
        self.tokens = self.tokens.min(self.rate);
    }

    /// Batches waiting to be published from the spool (not yet handed out).
    pub(crate) fn unsent(&self) -> u64 {
        self.spool.unsent() + u64::from(self.held.is_some())
    }

    /// Batches in the spool not yet acknowledged.
    pub(crate) fn pending(&self) -> u64 {
        self.spool.pending()
    }

    /// Publishes the spool's size and pending count to the stats.
    pub(crate) fn gauges(&self, stats: &Stats) {
        Stats::set(&stats.spool_bytes, self.spool.bytes());
        Stats::set(&stats.spool_pending, self.spool.pending());
    }

    /// Adds the tokens earned since the last refill (at most one second's worth).
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate.max(1.0));
    }

    /// Whether one more batch may be replayed now (takes the token when it may).
    fn take_token(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether spooled batches go before live ones now: some are waiting and the replay rate
    /// allows one. Only a backlog beyond the rate's one-second burst is interleaved with live
    /// batches, so after a short outage everything arrives in `seq` order.
    pub(crate) fn ahead(&mut self, now: Instant) -> bool {
        if self.unsent() == 0 || self.read_failed {
            return false;
        }
        self.refill(now);
        self.tokens >= 1.0
    }

    /// A connection came up: a full second's burst of replay is allowed at once.
    pub(crate) fn connected(&mut self, now: Instant) {
        self.refilled = now;
        self.tokens = self.rate;
    }

    /// Writes one encoded batch; counts it, or what the spool dropped to make room, or the
    /// failure (the batch is then lost).
    pub(crate) fn append(&mut self, payload: &[u8], stats: &Stats, now: Instant) {
        match self.spool.append(payload) {
            Ok(a) => {
                if std::mem::take(&mut self.write_failed) {
                    stats.set_spool_health(SpoolState::Ok, "");
                }
                if a.id.is_some() {
                    Stats::add(&stats.batches_spooled, 1);
                }
                if a.dropped > 0 {
                    Stats::add(&stats.spool_dropped, a.dropped);
                    warn!(
                        dropped = a.dropped,
                        "spool full: batches dropped (spool.policy)"
                    );
                }
            }
            Err(e) => {
                Stats::add(&stats.spool_errors, 1);
                if !self.write_failed {
                    self.write_failed = true;
                    stats.set_spool_health(SpoolState::Degraded, format!("cannot write: {e}"));
                }
                self.log_error(now, "cannot write a batch; it is lost", &e);
            }
        }
        self.gauges(stats);
    }

    /// The next spooled batch to publish, if the replay rate allows one now: the record set
    /// aside earlier, or the next one read from the spool (set aside until [`Backlog::sent`]).
    pub(crate) fn next(&mut self, now: Instant) -> Option<(RecordId, Vec<u8>)> {
        if self.unsent() == 0 {
            return None;
        }
        if self.held.is_none() {
            if !self.take_token(now) {
                return None;
            }
            let mut buf = std::mem::take(&mut self.buf);
            match self.spool.next(&mut buf) {
                Ok(Some(id)) => {
                    self.read_failed = false;
                    self.held = Some((id, buf.clone()));
                }
                Ok(None) => {}
                Err(e) => {
                    self.read_failed = true;
                    self.log_error(now, "cannot read a spooled batch", &e);
                }
            }
            self.buf = buf;
        }
        self.held.clone()
    }

    /// The record offered by [`Backlog::next`] was handed to the client.
    pub(crate) fn sent(&mut self) {
        self.held = None;
    }

    /// A spooled batch was acknowledged by the broker.
    pub(crate) fn ack(&mut self, id: RecordId, stats: &Stats) {
        self.spool.ack(id);
        self.gauges(stats);
    }

    /// The connection dropped: what was handed out is handed out again, from the oldest record
    /// not acknowledged.
    pub(crate) fn rewind(&mut self) {
        self.held = None;
        self.spool.rewind();
    }

    /// Periodic work: interval syncs and gauges.
    pub(crate) fn tick(&mut self, stats: &Stats, now: Instant) {
        if let Err(e) = self.spool.tick() {
            self.log_error(now, "cannot sync", &e);
        }
        self.gauges(stats);
    }

    /// Syncs the spool to disk (`what` names the occasion in a failure's log).
    pub(crate) fn sync(&mut self, what: &str, now: Instant) {
        if let Err(e) = self.spool.sync() {
            self.log_error(now, what, &e);
        }
    }

    /// Whether the spool has no periodic work due (no sync, no cursor save).
    pub(crate) fn settled(&self) -> bool {
        self.spool.settled()
    }

    fn log_error(&mut self, now: Instant, what: &str, e: &SpoolError) {
        let due = self.last_error_log.map_or(true, |t| {
            now.saturating_duration_since(t) >= ERROR_LOG_EVERY
        });
        if due {
            self.last_error_log = Some(now);
            error!(error = %e, "spool: {what}");
        }
    }
}

#[cfg(test)]
#[path = "spooling_tests.rs"]
mod tests;
