//! Store and forward, the publisher's side: which batches go to the on-disk spool, and how the
//! spool is replayed.
//!
//! * While the broker is unreachable, every batch taken from the queue is spooled at once, so
//!   the bounded in-memory queue never fills and drops during an outage, and a `kill -9`
//!   loses at most the few batches still in the queue.
//! * When the connection drops, live batches the broker had not acknowledged are spooled, in
//!   their original order.
//! * After a (re)connect, spooled batches are published oldest first with their original `run`
//!   and `seq` (the spool holds the payload as first encoded), before live ones, at most
//!   `spool.replay_rate` per second with a one-second burst: a short outage's backlog goes out
//!   at once, ahead of the live batches (which wait in memory, so a consumer sees `seq` in
//!   order); a longer one is interleaved with live batches at the replay rate, so a backlog
//!   never starves live data. Each is acknowledged in the spool on its PUBACK; a segment goes
//!   once all of it is acknowledged.
//! * On shutdown, whatever is still unacknowledged is spooled for the next start.
//!
//! Spool I/O is a write into the page cache (plus an `fdatasync` under `fsync = "batch"`), done
//! inline on the publisher task: it never blocks sampling, which only ever talks to the queue.

use std::time::Duration;

use rumqttc::QoS;
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::payload::encode_batch;
use super::session::Publisher;
use super::tracker::Tag;
use crate::config::SpoolConfig;
use crate::edges::batch::Batch;
use crate::spool::{RecordId, Spool, SpoolError, SpoolOptions};
use crate::stats::Stats;

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
    last_error_log: Option<Instant>,
}

impl Backlog {
    /// Opens the spool of `cfg` in `dir`, reports what was recovered, and counts torn records.
    pub fn open(
        dir: std::path::PathBuf,
        cfg: &SpoolConfig,
        stats: &Stats,
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
            refilled: Instant::now(),
            held: None,
            buf: Vec::new(),
            read_failed: false,
            last_error_log: None,
        };
        b.set_rate(cfg.replay_rate);
        b.gauges(stats);
        Ok(b)
    }

    /// Changes the replay rate (batches per second, ≥ 1).
    pub fn set_rate(&mut self, per_s: u32) {
        self.rate = f64::from(per_s.max(1));
        self.tokens = self.tokens.min(self.rate);
    }

    /// Batches waiting to be published from the spool (not yet handed out).
    pub fn unsent(&self) -> u64 {
        self.spool.unsent() + u64::from(self.held.is_some())
    }

    /// Batches in the spool not yet acknowledged.
    pub fn pending(&self) -> u64 {
        self.spool.pending()
    }

    fn gauges(&self, stats: &Stats) {
        Stats::set(&stats.spool_bytes, self.spool.bytes());
        Stats::set(&stats.spool_pending, self.spool.pending());
    }

    /// Adds the tokens earned since the last refill (at most one second's worth).
    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate.max(1.0));
    }

    /// Whether one more batch may be replayed now (takes the token when it may).
    fn take_token(&mut self) -> bool {
        self.refill();
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
    fn ahead(&mut self) -> bool {
        if self.unsent() == 0 || self.read_failed {
            return false;
        }
        self.refill();
        self.tokens >= 1.0
    }

    /// A connection came up: a full second's burst of replay is allowed at once.
    fn connected(&mut self) {
        self.refilled = Instant::now();
        self.tokens = self.rate;
    }

    fn log_error(&mut self, what: &str, e: &SpoolError) {
        let due = self
            .last_error_log
            .map_or(true, |t| t.elapsed() >= ERROR_LOG_EVERY);
        if due {
            self.last_error_log = Some(Instant::now());
            error!(error = %e, "spool: {what}");
        }
    }
}

impl Publisher {
    /// Whether batches taken from the queue now would be spooled rather than kept in memory.
    pub(crate) fn spooling(&self) -> bool {
        self.backlog.is_some() && !self.connected
    }

    /// Writes `batch` to the spool; without one (or when writing fails) it is counted as lost.
    pub(crate) fn spill(&mut self, batch: &Batch) {
        let Some(b) = self.backlog.as_mut() else {
            return;
        };
        encode_batch(&mut self.buf, &self.device, batch);
        match b.spool.append(&self.buf) {
            Ok(a) => {
                if a.id.is_some() {
                    Stats::add(&self.stats.batches_spooled, 1);
                }
                if a.dropped > 0 {
                    Stats::add(&self.stats.spool_dropped, a.dropped);
                    warn!(
                        dropped = a.dropped,
                        "spool full: batches dropped (spool.policy)"
                    );
                }
            }
            Err(e) => {
                Stats::add(&self.stats.spool_errors, 1);
                b.log_error("cannot write a batch; it is lost", &e);
            }
        }
        b.gauges(&self.stats);
    }

    /// The connection dropped: live batches not acknowledged go to the spool (in order) when
    /// there is one, else back to the front of the in-memory list; spooled ones in flight will
    /// be handed out again.
    pub(crate) fn take_back_unacked(&mut self) {
        let lost = self.tracker.connection_lost();
        if self.backlog.is_none() {
            for item in lost.into_iter().rev() {
                self.edges_out.push_front(item);
            }
            return;
        }
        let waiting = std::mem::take(&mut self.edges_out);
        for (_, batch) in lost.into_iter().chain(waiting) {
            self.spill(&batch);
        }
        if let Some(b) = self.backlog.as_mut() {
            b.held = None;
            b.spool.rewind();
        }
    }

    /// A spooled batch was acknowledged.
    pub(crate) fn spooled_accepted(&mut self, id: RecordId) {
        Stats::add(&self.stats.batches_sent, 1);
        Stats::add(&self.stats.batches_replayed, 1);
        if let Some(b) = self.backlog.as_mut() {
            b.spool.ack(id);
            b.gauges(&self.stats);
        }
    }

    /// The connection came up: the replay may start with a full burst.
    pub(crate) fn spool_connected(&mut self) {
        if let Some(b) = self.backlog.as_mut() {
            b.connected();
        }
    }

    /// The next live batch to publish, unless older spooled batches go first (see
    /// [`Backlog::ahead`]): then live batches wait, in order, in memory.
    pub(crate) fn next_live(&mut self) -> Option<(u64, Batch)> {
        if self.backlog.as_mut().is_some_and(Backlog::ahead) {
            return None;
        }
        self.edges_out.pop_front()
    }

    /// Hands one spooled batch to rumqttc if the replay rate and window allow; false when
    /// nothing was submitted.
    pub(crate) fn replay_one(&mut self, qos: QoS) -> bool {
        let in_flight = self.tracker.spooled_outstanding();
        let Some(b) = self.backlog.as_mut() else {
            return false;
        };
        if !self.connected || in_flight >= SPOOL_WINDOW || b.unsent() == 0 {
            return false;
        }
        if b.held.is_none() {
            if !b.take_token() {
                return false;
            }
            let mut buf = std::mem::take(&mut b.buf);
            match b.spool.next(&mut buf) {
                Ok(Some(id)) => {
                    b.read_failed = false;
                    b.held = Some((id, buf.clone()));
                }
                Ok(None) => {}
                Err(e) => {
                    b.read_failed = true;
                    b.log_error("cannot read a spooled batch", &e);
                }
            }
            b.buf = buf;
        }
        let Some((id, payload)) = b.held.take() else {
            return false;
        };
        match self
            .client
            .try_publish(self.topics.edges(), qos, false, payload.as_slice())
        {
            Ok(()) => {
                self.tracker.submitted(Tag::Spooled(id));
                true
            }
            Err(_) => {
                b.held = Some((id, payload));
                false
            }
        }
    }

    /// Periodic spool work: interval syncs and gauges.
    pub(crate) fn spool_tick(&mut self) {
        if let Some(b) = self.backlog.as_mut() {
            if let Err(e) = b.spool.tick() {
                b.log_error("cannot sync", &e);
            }
            b.gauges(&self.stats);
        }
    }

    /// Shutdown: everything not acknowledged (and still in `queue_rest`) goes to the spool, which
    /// is synced. Returns the batches that could not be kept.
    pub(crate) fn spool_remaining(&mut self, queue_rest: Vec<Batch>) -> usize {
        if self.backlog.is_none() {
            return self.edges_outstanding() + queue_rest.len();
        }
        self.take_back_unacked();
        for batch in &queue_rest {
            self.spill(batch);
        }
        if let Some(b) = self.backlog.as_mut() {
            if let Err(e) = b.spool.sync() {
                b.log_error("cannot sync at shutdown", &e);
            }
            b.gauges(&self.stats);
            if b.pending() > 0 {
                info!(
                    batches = b.pending(),
                    "spool: undelivered batches kept for the next start"
                );
            }
        }
        0
    }

    /// Whether the spool has periodic work (a sync or a cursor save due): on a healthy
    /// connection it has none, and the publisher then has no timer waking it for the spool.
    pub(crate) fn spool_needs_tick(&self) -> bool {
        self.backlog.as_ref().is_some_and(|b| !b.spool.settled())
    }

    /// Spool work left that a connected publisher should finish before stopping.
    pub(crate) fn backlog_left(&self) -> bool {
        self.backlog
            .as_ref()
            .is_some_and(|b| b.unsent() > 0 || self.tracker.spooled_outstanding() > 0)
    }

    /// Takes new spool settings: the replay rate at once; size, policy and fsync by reopening
    /// the spool (what it holds stays; batches in flight are handed out again).
    pub(crate) fn reconfigure_spool(&mut self, dir: std::path::PathBuf, cfg: &SpoolConfig) {
        if !cfg.enabled {
            if let Some(mut b) = self.backlog.take() {
                if let Err(e) = b.spool.sync() {
                    b.log_error("cannot sync", &e);
                }
                info!("spool disabled: what it holds stays on disk for when it is enabled again");
            }
            return;
        }
        if let Some(b) = self.backlog.as_mut() {
            if let Err(e) = b.spool.sync() {
                b.log_error("cannot sync", &e);
            }
        }
        // Reopening rewinds: spooled batches in flight are handed out again (duplicates, never
        // holes).
        self.backlog = None;
        match Backlog::open(dir, cfg, &self.stats) {
            Ok(b) => self.backlog = Some(b),
            Err(e) => {
                error!(error = %e, "spool: cannot reopen with the new settings; spooling off")
            }
        }
    }
}
