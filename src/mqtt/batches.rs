//! Where each edge batch goes between the queue and the broker: kept in memory (live), or
//! written to the spool, and from which of the two the next publish comes.
//!
//! * While the broker is unreachable, every batch taken from the queue is spooled at once, so
//!   the bounded in-memory queue never fills and drops during an outage, and a `kill -9`
//!   loses at most the few batches still in the queue.
//! * When the connection drops, live batches the broker had not acknowledged are spooled, in
//!   their original order, followed by the live ones not yet handed out; without a spool they go
//!   back to the front of the live list, in order.
//! * After a (re)connect, spooled batches go before live ones within the replay rate (see
//!   [`Backlog::ahead`]); live batches wait, in order, in memory.
//! * On shutdown, whatever is still unacknowledged is spooled for the next start.
//! * A spool that cannot be opened (disk full, `state_dir` not writable for a while) is retried
//!   from 1 s, doubling to 60 s, and used as soon as it opens; meanwhile the spool is reported
//!   `degraded` and batches stay in memory as without a spool.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::spooling::{Backlog, SPOOL_WINDOW};
use crate::config::SpoolConfig;
use crate::edges::batch::Batch;
use crate::spool::RecordId;
use crate::stats::{SpoolState, Stats};
use crate::wire::encode_batch;

/// Live batches in memory and the spool's backlog, when there is a spool.
pub(crate) struct Batches {
    /// The device id written into every payload.
    device: String,
    /// Batches to publish (resends first), with their submission rank.
    live: VecDeque<(u64, Batch)>,
    next_order: u64,
    /// The on-disk spool, when enabled.
    backlog: Option<Backlog>,
    /// Reused encode buffer.
    buf: Vec<u8>,
    /// A wanted spool that could not be opened: when and how to try again.
    reopen: Option<Reopen>,
}

/// First wait before opening a spool again after a failure.
pub(crate) const REOPEN_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between two attempts to open the spool.
pub(crate) const REOPEN_MAX: Duration = Duration::from_secs(60);

/// The next attempt to open a spool that failed to open.
struct Reopen {
    dir: PathBuf,
    cfg: SpoolConfig,
    at: Instant,
    delay: Duration,
}

impl Batches {
    /// Batches of `device`, without a spool.
    pub(crate) fn new(device: String) -> Self {
        Batches {
            device,
            live: VecDeque::new(),
            next_order: 0,
            backlog: None,
            buf: Vec::new(),
            reopen: None,
        }
    }

    /// Whether there is a spool.
    pub(crate) fn has_spool(&self) -> bool {
        self.backlog.is_some()
    }

    /// Whether batches taken from the queue now would be spooled rather than kept in memory.
    pub(crate) fn spooling(&self, connected: bool) -> bool {
        self.backlog.is_some() && !connected
    }

    /// Takes a batch from the queue: spooled while disconnected (with a spool), else kept.
    pub(crate) fn accept(&mut self, batch: Batch, connected: bool, stats: &Stats, now: Instant) {
        if self.spooling(connected) {
            self.spill(&batch, stats, now);
        } else {
            self.live.push_back((self.next_order, batch));
            self.next_order += 1;
        }
    }

    /// Live batches not handed out yet.
    pub(crate) fn waiting(&self) -> usize {
        self.live.len()
    }

    /// Writes `batch` to the spool; without one (or when writing fails) it is counted as lost.
    fn spill(&mut self, batch: &Batch, stats: &Stats, now: Instant) {
        let Some(b) = self.backlog.as_mut() else {
            return;
        };
        encode_batch(&mut self.buf, &self.device, batch);
        b.append(&self.buf, stats, now);
    }

    /// The connection dropped; `unacked` are the live batches handed out and not acknowledged,
    /// in order. With a spool they and the waiting ones go to it, and spooled batches in flight
    /// will be handed out again; without, they go back to the front of the live list.
    pub(crate) fn lost(&mut self, unacked: Vec<(u64, Batch)>, stats: &Stats, now: Instant) {
        if self.backlog.is_none() {
            for item in unacked.into_iter().rev() {
                self.live.push_front(item);
            }
            return;
        }
        let waiting = std::mem::take(&mut self.live);
        for (_, batch) in unacked.into_iter().chain(waiting) {
            self.spill(&batch, stats, now);
        }
        if let Some(b) = self.backlog.as_mut() {
            b.rewind();
        }
    }

    /// A connection came up: the replay may start with a full burst.
    pub(crate) fn connected(&mut self, now: Instant) {
        if let Some(b) = self.backlog.as_mut() {
            b.connected(now);
        }
    }

    /// A spooled batch was acknowledged.
    pub(crate) fn spooled_acked(&mut self, id: RecordId, stats: &Stats) {
        Stats::add(&stats.batches_sent, 1);
        Stats::add(&stats.batches_replayed, 1);
        if let Some(b) = self.backlog.as_mut() {
            b.ack(id, stats);
        }
    }

    /// The broker refused spooled batch `id` (an MQTT 5 reason code): resending it would be
    /// refused again, so it leaves the spool without counting as sent.
    pub(crate) fn spooled_refused(&mut self, id: RecordId, stats: &Stats) {
        if let Some(b) = self.backlog.as_mut() {
            b.ack(id, stats);
        }
    }

    /// The next spooled batch to publish, if the replay rate and the window (`in_flight`
    /// spooled batches not yet acknowledged) allow one.
    pub(crate) fn next_spooled(
        &mut self,
        in_flight: usize,
        now: Instant,
    ) -> Option<(RecordId, Vec<u8>)> {
        if in_flight >= SPOOL_WINDOW {
            return None;
        }
        self.backlog.as_mut()?.next(now)
    }

    /// The spooled batch offered went out.
    pub(crate) fn spooled_sent(&mut self) {
        if let Some(b) = self.backlog.as_mut() {
            b.sent();
        }
    }

    /// The next live batch to publish and its payload, unless older spooled batches go first
    /// (see [`Backlog::ahead`]).
    pub(crate) fn next_live(&mut self, now: Instant) -> Option<(u64, Batch, Vec<u8>)> {
        if self.backlog.as_mut().is_some_and(|b| b.ahead(now)) {
            return None;
        }
        let (order, batch) = self.live.pop_front()?;
        // Encoded into a buffer handed on as the payload: a copy of a reused one cost as much
        // as the encoding's own reservation, plus the copy.
        let mut payload = Vec::new();
        encode_batch(&mut payload, &self.device, &batch);
        Some((order, batch, payload))
    }

    /// The live batch offered was not taken: it stays first.
    pub(crate) fn live_refused(&mut self, order: u64, batch: Batch) {
        self.live.push_front((order, batch));
    }

    /// Spooled batches waiting to be handed out, or `in_flight` ones not acknowledged yet.
    pub(crate) fn backlog_left(&self, in_flight: usize) -> bool {
        self.backlog
            .as_ref()
            .is_some_and(|b| b.unsent() > 0 || in_flight > 0)
    }

    /// Periodic spool work: interval syncs and gauges.
    pub(crate) fn tick(&mut self, stats: &Stats, now: Instant) {
        if let Some(b) = self.backlog.as_mut() {
            b.tick(stats, now);
        }
        if self.reopen.as_ref().is_some_and(|r| now >= r.at) {
            if let Some(r) = self.reopen.take() {
                self.open(r.dir, r.cfg, r.delay, stats, now);
            }
        }
    }

    /// Whether the spool has periodic work (a sync or a cursor save due): on a healthy
    /// connection it has none, and the publisher then has no timer waking it for the spool.
    pub(crate) fn needs_tick(&self) -> bool {
        self.reopen.is_some() || self.backlog.as_ref().is_some_and(|b| !b.settled())
    }

    /// Shutdown: `unacked` (see [`Batches::lost`]), the waiting live batches and `queue_rest`
    /// go to the spool, which is synced. Returns the batches that could not be kept: all of
    /// them without a spool, none with one (what the spool drops is counted there).
    pub(crate) fn remaining(
        &mut self,
        unacked: Vec<(u64, Batch)>,
        queue_rest: Vec<Batch>,
        stats: &Stats,
        now: Instant,
    ) -> usize {
        if self.backlog.is_none() {
            return unacked.len() + self.live.len() + queue_rest.len();
        }
        self.lost(unacked, stats, now);
        for batch in &queue_rest {
            self.spill(batch, stats, now);
        }
        if let Some(b) = self.backlog.as_mut() {
            b.sync("cannot sync at shutdown", now);
            b.gauges(stats);
            if b.pending() > 0 {
                info!(
                    batches = b.pending(),
                    "spool: undelivered batches kept for the next start"
                );
            }
        }
        0
    }

    /// Takes new spool settings: the replay rate at once; size, policy and fsync by reopening
    /// the spool in `dir` (what it holds stays; batches in flight are handed out again).
    pub(crate) fn reconfigure(
        &mut self,
        dir: PathBuf,
        cfg: &SpoolConfig,
        stats: &Stats,
        now: Instant,
    ) {
        self.reopen = None;
        if !cfg.enabled {
            if let Some(mut b) = self.backlog.take() {
                b.sync("cannot sync", now);
                info!("spool disabled: what it holds stays on disk for when it is enabled again");
            }
            stats.set_spool_health(SpoolState::Off, "spool.enabled = false");
            return;
        }
        if let Some(b) = self.backlog.as_mut() {
            b.sync("cannot sync", now);
        }
        // Reopening rewinds: spooled batches in flight are handed out again (duplicates, never
        // holes).
        self.backlog = None;
        self.open(dir, cfg.clone(), REOPEN_FIRST, stats, now);
    }

    /// Opens the spool; on failure reports it degraded and schedules the next attempt after
    /// `delay` (the one after that waits twice as long, up to [`REOPEN_MAX`]).
    fn open(
        &mut self,
        dir: PathBuf,
        cfg: SpoolConfig,
        delay: Duration,
        stats: &Stats,
        now: Instant,
    ) {
        match Backlog::open(dir.clone(), &cfg, stats, now) {
            Ok(b) => {
                if delay > REOPEN_FIRST {
                    info!("spool: opened after earlier failures; spooling again");
                }
                self.backlog = Some(b);
                stats.set_spool_health(SpoolState::Ok, "");
            }
            Err(e) => {
                warn!(error = %e, retry_in = ?delay, "spool: cannot open; batches stay in memory until it can");
                stats.set_spool_health(SpoolState::Degraded, format!("cannot open: {e}"));
                self.reopen = Some(Reopen {
                    dir,
                    cfg,
                    at: now + delay,
                    delay: (delay * 2).min(REOPEN_MAX),
                });
            }
        }
    }
}

#[cfg(test)]
#[path = "batches_tests.rs"]
mod tests;
