//! The IO shell around the publisher's state machine: it owns the rumqttc client and the
//! event-loop driver, reads the clocks, the queue, the controller's commands and the timers,
//! feeds all of it to the [`Publisher`], and carries out what the publisher decides
//! (subscriptions, publishes, the steps of a clean close, a switch to new settings).
//!
//! Flow control, from producer to socket:
//! * the sampling side pushes into a bounded [`DropOldestQueue`] and never waits;
//! * the shell takes from that queue only while connected and while fewer than
//!   [`EDGE_WINDOW`] batches await the broker's acknowledgement, so an absent broker leaves
//!   batches in the bounded queue instead of an unbounded client buffer (with a spool, it takes
//!   them while disconnected too, to spool them);
//! * rumqttc's request channel holds at most [`REQUEST_CAPACITY`] requests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rumqttc::QoS;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tracing::{debug, info, warn};

use super::adapter::client;
use super::backoff::Backoff;
use super::client::Client;
use super::closing::{CloseStep, Closed, Closing};
use super::control::{Command, ControlLink};
use super::driver::{Driver, LoopEvent};
use super::error::MqttError;
use super::message::{Message, Origin};
use super::options::{options_for, qos_from, Options, REQUEST_CAPACITY};
use super::publisher::Publisher;
use super::reasons::publish_packet_size;
use super::reporting::Reporter;
use crate::config::{MqttConfig, SpoolConfig, StatsConfig};
use crate::liveness::Heartbeats;
use crate::presence::Resubscribe;
use crate::procstat::ProcessProbe;
use crate::queue::{DropOldestQueue, Outgoing};
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::wire::{Description, Topics};

/// How long after shutdown is triggered the publisher keeps trying to deliver what is left.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Edge batches handed to the client but not yet acknowledged by the broker.
pub const EDGE_WINDOW: usize = 16;
/// The spool's directory under `state_dir`.
pub const SPOOL_DIR: &str = "spool";
/// How long the final `offline` publish and the DISCONNECT may take on a clean shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a give-up (drain timeout) still tries to say goodbye when connected.
const GIVE_UP_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Period of the spool's housekeeping (interval syncs, gauges) and replay refills.
const SPOOL_TICK: Duration = Duration::from_millis(100);
/// How long leaving the old broker may take when the controller changes the connection.
const SWITCH_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything the publisher task needs.
pub(crate) struct Setup {
    pub(crate) cfg: MqttConfig,
    pub(crate) device_id: String,
    pub(crate) queue: Arc<DropOldestQueue<Outgoing>>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) shutdown: Shutdown,
    pub(crate) drain_timeout: Duration,
    pub(crate) control: Option<ControlLink>,
    pub(crate) state: Option<(PathBuf, SpoolConfig)>,
    pub(crate) stats_cfg: Option<(u64, StatsConfig)>,
    pub(crate) description: Option<Description>,
    pub(crate) heartbeat: Option<(Arc<Heartbeats>, Duration)>,
}

/// The client and its event-loop driver.
struct Link {
    client: Client,
    driver: Driver,
}

/// Monotonic time now, as the state machine takes it.
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// UTC µs now (0 before 1970).
fn utc_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A client and its event-loop driver for `cfg`, connecting with `options` (made from `cfg`
/// by [`options_for`] beforehand, so a TLS file that cannot be read fails before anything
/// changes).
fn connect(cfg: &MqttConfig, device_id: &str, options: Options) -> Link {
    // +3: room for the final DISCONNECT and the SUBSCRIBE beyond what the pump may submit.
    let (client, eventloop) = client(options, REQUEST_CAPACITY + 3);
    let driver = Driver::spawn(
        eventloop,
        Backoff::new(cfg.reconnect_min_ms, cfg.reconnect_max_ms),
    );
    info!(broker = %broker_of(cfg), client_id = %format!("edgetap-{device_id}"),
        protocol = %cfg.protocol, "connecting to MQTT broker");
    Link { client, driver }
}

fn broker_of(cfg: &MqttConfig) -> String {
    cfg.broker()
}

impl Link {
    /// Sends the subscription changes, then hands the client every publish due that its channel
    /// takes.
    fn flush(&self, p: &mut Publisher) {
        while let Some(r) = p.next_request() {
            self.resubscribe(r);
        }
        while let Some(done) = p.next_ack() {
            // Not taken: the broker delivers the message again after the next drop.
            if let Err(e) = self.client.try_ack(&done) {
                debug!(error = %e, "cannot acknowledge a received message now");
            }
        }
        let at = now();
        while let Some(Message {
            topic,
            payload,
            qos,
            retain,
            origin,
        }) = p.next_message(at)
        {
            let correlation = match &origin {
                Origin::Response(c) => c.clone(),
                _ => None,
            };
            if matches!(origin, Origin::Live { .. } | Origin::Spooled(_)) {
                let size = publish_packet_size(
                    topic.len(),
                    payload.len(),
                    qos != QoS::AtMostOnce,
                    correlation.as_ref().map(Vec::len),
                );
                if !p.fits_broker(size) {
                    p.too_large(origin, size, at);
                    continue;
                }
            }
            match self
                .client
                .try_publish(topic, qos, retain, payload, correlation)
            {
                Ok(()) => p.sent(origin, at),
                Err(_) => {
                    // Channel full or closed: retry on the next event; a closed one ends `serve`.
                    p.refused(origin);
                    break;
                }
            }
        }
    }

    fn resubscribe(&self, r: Resubscribe) {
        for stale in r.unsubscribe {
            debug!(topic = %stale, "unsubscribing from a topic no longer wanted");
            if let Err(e) = self.client.try_unsubscribe(stale) {
                warn!(error = %e, "cannot unsubscribe from a stale topic");
            }
        }
        if !r.subscribe.is_empty() {
            let filters = r
                .subscribe
                .into_iter()
                .map(|t| (t, QoS::AtLeastOnce))
                .collect();
            if let Err(e) = self.client.try_subscribe_many(filters) {
                warn!(error = %e, "cannot subscribe");
            }
        }
    }

    /// Gives the publisher one event of the driver.
    fn handle(&self, p: &mut Publisher, ev: LoopEvent) {
        match ev {
            LoopEvent::Event(e) => p.handle(e, now()),
            LoopEvent::BrokerLimit(max) => p.broker_limit(max),
            LoopEvent::Rejected { pkid, reason } => p.rejected(pkid, reason, now()),
            LoopEvent::Request {
                publish,
                topic,
                correlation,
            } => p.request(publish, topic, correlation),
            LoopEvent::Lost { error, retry_in } => {
                p.lost(&error, retry_in, now());
                self.driver.resume();
            }
        }
    }

    /// Handles one driver event and hands over what is due; false when `until` passed first.
    async fn step(&mut self, p: &mut Publisher, until: Instant) -> Result<bool, MqttError> {
        tokio::select! {
            ev = self.driver.next() => {
                self.handle(p, ev.ok_or(MqttError::EventLoopStopped)?);
                self.flush(p);
                Ok(true)
            }
            _ = tokio::time::sleep_until(until) => Ok(false),
        }
    }

    /// Closes the connection cleanly (see [`Closing`]); gives up after `limit`.
    async fn close(&mut self, p: &mut Publisher, limit: Duration) -> Result<(), MqttError> {
        let until = Instant::now() + limit;
        let mut closing = Closing::default();
        let mut expired = false;
        // Clears handed to rumqttc before `offline` and DISCONNECT go out before them.
        self.flush(p);
        loop {
            match closing.advance(p, expired) {
                CloseStep::Wait => {
                    self.flush(p);
                    if !self.step(p, until).await? {
                        expired = true;
                    }
                }
                CloseStep::Disconnect => {
                    if self.client.try_disconnect().is_err() {
                        closing.disconnect_refused();
                    }
                }
                CloseStep::Done(Closed::Clean) => return Ok(()),
                CloseStep::Done(Closed::Lost) => {
                    // The broker publishes our last will (`offline`) when it notices.
                    warn!(broker = %p.session.broker, "connection lost while closing");
                    return Ok(());
                }
                CloseStep::Done(Closed::DisconnectNotSent) => {
                    warn!(broker = %p.session.broker, "DISCONNECT not sent within {limit:?}");
                    return Ok(());
                }
            }
        }
    }

    /// Closes the current connection cleanly when there is one, and takes back what the broker
    /// did not acknowledge, to resend on the next one.
    async fn leave(&mut self, p: &mut Publisher, limit: Duration) -> Result<(), MqttError> {
        if p.connected() {
            self.close(p, limit).await?;
        }
        p.left(now());
        Ok(())
    }
}

/// A ticker whose first tick is one interval from now.
fn stats_ticker(interval_s: u64) -> Interval {
    ticker_every(Duration::from_secs(interval_s.max(1)))
}

/// A ticker of `period` (at least 1 ms) whose first tick is one period from now.
fn ticker_every(period: Duration) -> Interval {
    let period = period.max(Duration::from_millis(1));
    let mut t = tokio::time::interval_at(Instant::now() + period, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// The next tick of `ticker`; never, without one.
async fn stats_tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn recv(rx: &mut Option<tokio::sync::mpsc::Receiver<Command>>) -> Option<Command> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Publishes what arrives on the queue until it is closed and drained (or shutdown was
/// triggered more than the drain timeout ago), then publishes `offline` and disconnects.
pub(crate) async fn serve(setup: Setup) -> Result<(), MqttError> {
    let Setup {
        cfg,
        device_id,
        queue,
        stats,
        shutdown,
        drain_timeout,
        mut control,
        state,
        stats_cfg,
        description,
        heartbeat,
    } = setup;
    let qos = qos_from(cfg.qos)?;
    let topics = Topics::new(cfg.topic_prefix.clone(), device_id.clone());
    let options = options_for(&cfg, &device_id, &topics)?;
    let mut link = connect(&cfg, &device_id, options);
    let mut p = Publisher::new(topics, qos, stats.clone(), broker_of(&cfg), now());
    let mut rx = control.as_mut().and_then(|c| c.commands.take());
    p.set_control(control);
    let spool_dir = state.as_ref().map(|(dir, _)| dir.join(SPOOL_DIR));
    if let Some((dir, spool_cfg)) = &state {
        p.remember_in(dir);
        if spool_cfg.enabled {
            p.reconfigure_spool(dir.join(SPOOL_DIR), spool_cfg, now());
        }
    }
    if let Some(d) = description {
        p.describe(d);
    }
    let mut ticker = tokio::time::interval(SPOOL_TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut probe = None;
    let mut stats_every = stats_cfg.map(|(run, c)| {
        let pr = ProcessProbe::default();
        let process = pr.sample();
        if process.cpu.is_none() || process.rss_bytes.is_none() {
            debug!(
                ?process,
                "/proc/self unreadable here: stats have null CPU or RSS"
            );
        }
        probe = Some(pr);
        p.set_reporter(Reporter::new(
            device_id.clone(),
            run,
            stats.snapshot(),
            process,
            now(),
        ));
        stats_ticker(c.interval_s)
    });

    let (beats, mut beat_every) = match heartbeat {
        Some((beats, every)) => (Some(beats), Some(ticker_every(every))),
        None => (None, None),
    };
    let mut drain_deadline: Option<Instant> = None;
    let mut queue_done = false;
    loop {
        if let Some(b) = &beats {
            b.publishing();
        }
        if queue_done && p.idle() {
            p.spool_remaining(Vec::new(), now());
            link.close(&mut p, CLOSE_TIMEOUT).await?;
            info!("publisher stopped: every batch delivered");
            return Ok(());
        }
        // Connected: take batches as the window allows. Disconnected: take them only to spool
        // them, so an outage fills the disk (bounded, counted) rather than the queue.
        let can_take = !queue_done
            && if p.connected() {
                p.edges_outstanding() < EDGE_WINDOW
            } else {
                p.spooling()
            };
        // A far deadline stands in for "none" so the select arm can stay a plain sleep.
        let deadline = drain_deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            ev = link.driver.next() => link.handle(&mut p, ev.ok_or(MqttError::EventLoopStopped)?),
            item = queue.pop(), if can_take => match item {
                Some(o) => p.accept(o, now()),
                None => queue_done = true,
            },
            cmd = recv(&mut rx), if rx.is_some() => match cmd {
                Some(Command::Spool(c)) => match &spool_dir {
                    Some(dir) => p.reconfigure_spool(dir.clone(), &c, now()),
                    None => warn!("spool settings changed, but this publisher has no spool"),
                },
                Some(Command::Stats(c)) => {
                    if stats_every.is_some() {
                        stats_every = Some(stats_ticker(c.interval_s));
                    }
                }
                Some(cmd) => command(&mut p, &mut link, &device_id, cmd).await?,
                None => rx = None,
            },
            _ = ticker.tick(), if p.spool_needs_tick() => p.spool_tick(now()),
            _ = stats_tick(&mut stats_every), if stats_every.is_some() => {
                if let Some(pr) = &probe {
                    p.report_stats(pr.sample(), utc_us(), now());
                }
            }
            // Only wakes the loop, whose round is the heartbeat.
            _ = stats_tick(&mut beat_every), if beat_every.is_some() => {}
            _ = shutdown.wait(), if drain_deadline.is_none() => {
                debug!(queued = queue.len(), "shutdown requested: draining");
                drain_deadline = Some(Instant::now() + drain_timeout);
            }
            _ = tokio::time::sleep_until(deadline), if drain_deadline.is_some() => {
                let rest = std::iter::from_fn(|| queue.try_pop())
                    .filter_map(|o| match o {
                        Outgoing::Batch(b) => Some(b),
                        _ => None,
                    })
                    .collect();
                let lost = p.spool_remaining(rest, now());
                if lost > 0 {
                    warn!(
                        lost,
                        connected = p.connected(),
                        "giving up on delivery after {drain_timeout:?}: {lost} batches not delivered"
                    );
                } else {
                    info!("stopping after {drain_timeout:?}: undelivered batches are in the spool");
                }
                if p.connected() {
                    link.close(&mut p, GIVE_UP_CLOSE_TIMEOUT).await?;
                }
                return Ok(());
            }
        }
        link.flush(&mut p);
    }
}

/// Carries out one command of the controller.
async fn command(
    p: &mut Publisher,
    link: &mut Link,
    device_id: &str,
    cmd: Command,
) -> Result<(), MqttError> {
    match cmd {
        Command::SetConfig(payload) => p.set_config(payload),
        // Handled by the loop, which knows the spool's directory and owns the stats ticker.
        Command::Spool(_) | Command::Stats(_) => {}
        Command::Result(payload) => p.push_result(payload),
        Command::Response(payload, reply) => p.push_response(payload, reply),
        Command::Describe(d) => p.describe(*d),
        Command::Done(ack) => p.controller_done(ack),
        Command::Tune(cfg) => {
            if let Ok(qos) = qos_from(cfg.qos) {
                p.set_qos(qos);
            }
            link.driver
                .set_backoff(Backoff::new(cfg.reconnect_min_ms, cfg.reconnect_max_ms));
        }
        Command::Reconnect(cfg) => {
            // Clear what the new topics do not use (an old prefix's), leave the old broker
            // cleanly (its status topic says `offline`), then start over.
            let topics = Topics::new(cfg.topic_prefix.clone(), device_id);
            let options = options_for(&cfg, device_id, &topics)?;
            p.clear_stale(&topics);
            link.leave(p, SWITCH_CLOSE_TIMEOUT).await?;
            if let Ok(qos) = qos_from(cfg.qos) {
                p.set_qos(qos);
            }
            *link = connect(&cfg, device_id, options);
            p.moved(topics, broker_of(&cfg));
        }
    }
    Ok(())
}
