//! The publisher: takes [`Outgoing`] entries from the queue and publishes them, reconnecting
//! with backoff, and shuts down cleanly once the queue is closed and drained.
//!
//! Flow control, from producer to socket:
//! * the sampling side pushes into a bounded [`DropOldestQueue`] and never waits;
//! * the publisher takes from that queue only while connected and while fewer than
//!   [`EDGE_WINDOW`] batches await the broker's acknowledgement, so an absent broker leaves
//!   batches in the bounded queue instead of an unbounded client buffer;
//! * rumqttc's request channel holds at most [`REQUEST_CAPACITY`] requests.
//!
//! Delivery is at least once: batches not acknowledged when the connection drops are resent, in
//! order, after the next ConnAck (a consumer may see a `(run, seq)` twice, never a hole that the
//! publisher could have filled).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Incoming, QoS};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::backoff::Backoff;
use super::driver::{Driver, LoopEvent};
use super::error::MqttError;
use super::options::{mqtt_options, qos_from, OFFLINE, REQUEST_CAPACITY};
use super::payload::encode_batch;
use super::topics::Topics;
use super::tracker::{Accepted, Tag, Tracker};
use crate::config::MqttConfig;
use crate::edges::batch::Batch;
use crate::queue::{DropOldestQueue, Outgoing};
use crate::shutdown::Shutdown;
use crate::stats::Stats;

/// How long after shutdown is triggered the publisher keeps trying to deliver what is left.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Edge batches handed to the client but not yet acknowledged by the broker.
pub const EDGE_WINDOW: usize = 16;
/// How long the final `offline` publish and the DISCONNECT may take on a clean shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a give-up (drain timeout) still tries to say goodbye when connected.
const GIVE_UP_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

const ONLINE: &str = "online";

/// Publishes what arrives on `queue` until it is closed and drained (or `shutdown` was triggered
/// more than [`DRAIN_TIMEOUT`] ago), then publishes `offline` and disconnects.
pub async fn run(
    cfg: MqttConfig,
    device_id: String,
    queue: Arc<DropOldestQueue<Outgoing>>,
    stats: Arc<Stats>,
    shutdown: Shutdown,
) -> Result<(), MqttError> {
    run_with_drain_timeout(cfg, device_id, queue, stats, shutdown, DRAIN_TIMEOUT).await
}

/// [`run`] with a custom drain timeout.
pub async fn run_with_drain_timeout(
    cfg: MqttConfig,
    device_id: String,
    queue: Arc<DropOldestQueue<Outgoing>>,
    stats: Arc<Stats>,
    shutdown: Shutdown,
    drain_timeout: Duration,
) -> Result<(), MqttError> {
    let qos = qos_from(cfg.qos)?;
    let topics = Topics::new(cfg.topic_prefix.clone(), device_id.clone());
    let options = mqtt_options(&cfg, &device_id, &topics);
    // +2: room for the final DISCONNECT beyond what `pump` may submit.
    let (client, eventloop) = AsyncClient::new(options, REQUEST_CAPACITY + 2);
    let mut driver = Driver::spawn(
        eventloop,
        Backoff::new(cfg.reconnect_min_ms, cfg.reconnect_max_ms),
    );
    let broker = format!("{}:{}", cfg.host, cfg.port);
    info!(%broker, client_id = %format!("edgetap-{device_id}"), "connecting to MQTT broker");
    let mut p = Publisher::new(client, topics, device_id, qos, stats, broker);

    let mut drain_deadline: Option<Instant> = None;
    let mut queue_done = false;
    loop {
        if queue_done && p.idle() {
            p.close(&mut driver, CLOSE_TIMEOUT).await?;
            info!("publisher stopped: every batch delivered");
            return Ok(());
        }
        let can_take = p.connected && !queue_done && p.edges_outstanding() < EDGE_WINDOW;
        // A far deadline stands in for "none" so the select arm can stay a plain sleep.
        let deadline = drain_deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            ev = driver.next() => p.handle(ev.ok_or(MqttError::EventLoopStopped)?, &driver),
            item = queue.pop(), if can_take => match item {
                Some(o) => p.accept(o),
                None => queue_done = true,
            },
            _ = shutdown.wait(), if drain_deadline.is_none() => {
                debug!(queued = queue.len(), "shutdown requested: draining");
                drain_deadline = Some(Instant::now() + drain_timeout);
            }
            _ = tokio::time::sleep_until(deadline), if drain_deadline.is_some() => {
                let undelivered = queue.len() + p.edges_outstanding();
                warn!(
                    undelivered,
                    connected = p.connected,
                    "giving up on delivery after {drain_timeout:?}: {undelivered} batches not delivered"
                );
                if p.connected {
                    p.close(&mut driver, GIVE_UP_CLOSE_TIMEOUT).await?;
                }
                return Ok(());
            }
        }
        p.pump();
    }
}

/// Per-process publishing state.
struct Publisher {
    client: AsyncClient,
    topics: Topics,
    device: String,
    qos: QoS,
    stats: Arc<Stats>,
    broker: String,
    tracker: Tracker,
    /// Status payloads to publish, before anything else.
    status_out: VecDeque<&'static str>,
    /// Batches to publish (resends first), with their submission rank.
    edges_out: VecDeque<(u64, Batch)>,
    next_order: u64,
    /// Latest level of every pin seen.
    known: BTreeMap<u8, u8>,
    /// Level last published per pin on this connection.
    published: BTreeMap<u8, u8>,
    /// Reused encode buffer.
    buf: Vec<u8>,
    connected: bool,
    /// Failed attempts since the last successful connection.
    failures: u32,
    down_since: Option<Instant>,
    offline_accepted: bool,
    disconnect_sent: bool,
}

impl Publisher {
    fn new(
        client: AsyncClient,
        topics: Topics,
        device: String,
        qos: QoS,
        stats: Arc<Stats>,
        broker: String,
    ) -> Self {
        Publisher {
            client,
            topics,
            device,
            qos,
            stats,
            broker,
            tracker: Tracker::default(),
            status_out: VecDeque::new(),
            edges_out: VecDeque::new(),
            next_order: 0,
            known: BTreeMap::new(),
            published: BTreeMap::new(),
            buf: Vec::new(),
            connected: false,
            failures: 0,
            down_since: Some(Instant::now()),
            offline_accepted: false,
            disconnect_sent: false,
        }
    }

    fn edges_outstanding(&self) -> usize {
        self.edges_out.len() + self.tracker.edges_outstanding()
    }

    fn next_gpio(&self) -> Option<(u8, u8)> {
        self.known
            .iter()
            .find(|(pin, level)| self.published.get(pin) != Some(level))
            .map(|(p, l)| (*p, *l))
    }

    /// Nothing left to publish.
    fn idle(&self) -> bool {
        self.edges_outstanding() == 0 && self.next_gpio().is_none()
    }

    /// Takes one entry from the queue.
    fn accept(&mut self, o: Outgoing) {
        match o {
            Outgoing::Levels(levels) => {
                for l in levels {
                    self.known.insert(l.pin, l.level);
                }
            }
            Outgoing::Batch(b) => {
                for l in &b.levels {
                    self.known.insert(l.pin, l.level);
                }
                self.edges_out.push_back((self.next_order, b));
                self.next_order += 1;
            }
        }
    }

    fn handle(&mut self, ev: LoopEvent, driver: &Driver) {
        match ev {
            LoopEvent::Event(Event::Incoming(Incoming::ConnAck(_))) => self.connected(),
            LoopEvent::Event(Event::Incoming(Incoming::PubAck(ack))) => {
                let accepted = self.tracker.on_ack(ack.pkid);
                self.count(accepted);
            }
            LoopEvent::Event(Event::Incoming(Incoming::PubComp(comp))) => {
                let accepted = self.tracker.on_ack(comp.pkid);
                self.count(accepted);
            }
            LoopEvent::Event(Event::Outgoing(rumqttc::Outgoing::Publish(pkid))) => {
                let accepted = self.tracker.on_outgoing_publish(pkid);
                self.count(accepted);
            }
            LoopEvent::Event(Event::Outgoing(rumqttc::Outgoing::AwaitAck(pkid))) => {
                self.tracker.on_await_ack(pkid);
            }
            LoopEvent::Event(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                self.disconnect_sent = true;
            }
            LoopEvent::Event(_) => {}
            LoopEvent::Lost { error, retry_in } => {
                self.lost(error, retry_in);
                driver.resume();
            }
        }
    }

    fn count(&mut self, accepted: Option<Accepted>) {
        match accepted {
            Some(Accepted::Edge) => Stats::add(&self.stats.batches_sent, 1),
            Some(Accepted::Offline) => self.offline_accepted = true,
            Some(Accepted::Control) | None => {}
        }
    }

    fn connected(&mut self) {
        Stats::add(&self.stats.connects, 1);
        let down_for = self
            .down_since
            .take()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        if self.failures > 0 {
            info!(
                broker = %self.broker,
                failed_attempts = self.failures,
                ?down_for,
                "connected to MQTT broker"
            );
        } else {
            info!(broker = %self.broker, "connected to MQTT broker");
        }
        self.failures = 0;
        self.connected = true;
        // A broker without persistence has forgotten our retained state: republish all of it.
        self.published.clear();
        self.status_out.retain(|s| *s != ONLINE);
        self.status_out.push_front(ONLINE);
    }

    fn lost(&mut self, error: rumqttc::ConnectionError, retry_in: Duration) {
        Stats::add(&self.stats.connection_errors, 1);
        if self.connected {
            self.down_since = Some(Instant::now());
            warn!(broker = %self.broker, %error, ?retry_in, "connection to MQTT broker lost; reconnecting");
        } else if self.failures == 0 {
            warn!(broker = %self.broker, %error, ?retry_in, "cannot connect to MQTT broker; retrying with backoff");
        } else {
            debug!(broker = %self.broker, %error, ?retry_in, attempt = self.failures + 1, "connect attempt failed");
        }
        self.failures += 1;
        self.connected = false;
        // Resend unacknowledged batches first, in their original order.
        let lost = self.tracker.connection_lost();
        for item in lost.into_iter().rev() {
            self.edges_out.push_front(item);
        }
    }

    /// Hands as much as the request channel allows to rumqttc: status, then batches, then the
    /// gpio levels that changed.
    fn pump(&mut self) {
        while self.connected && self.tracker.awaiting() < REQUEST_CAPACITY {
            if let Some(status) = self.status_out.front().copied() {
                let res = self.client.try_publish(
                    self.topics.status(),
                    QoS::AtLeastOnce,
                    true,
                    status.as_bytes(),
                );
                if res.is_err() {
                    // Channel full or closed: retry on the next event; a closed one ends `run`.
                    break;
                }
                self.status_out.pop_front();
                let tag = if status == OFFLINE {
                    Tag::Offline
                } else {
                    Tag::Control
                };
                self.tracker.submitted(tag);
            } else if let Some((order, batch)) = self.edges_out.pop_front() {
                encode_batch(&mut self.buf, &self.device, &batch);
                let res = self.client.try_publish(
                    self.topics.edges(),
                    self.qos,
                    false,
                    self.buf.as_slice(),
                );
                if res.is_err() {
                    self.edges_out.push_front((order, batch));
                    break;
                }
                self.tracker.submitted(Tag::Edge { order, batch });
            } else if let Some((pin, level)) = self.next_gpio() {
                let payload: &[u8] = if level != 0 { b"ON" } else { b"OFF" };
                let res =
                    self.client
                        .try_publish(self.topics.gpio(pin), QoS::AtLeastOnce, true, payload);
                if res.is_err() {
                    break;
                }
                self.published.insert(pin, level);
                self.tracker.submitted(Tag::Control);
            } else {
                break;
            }
        }
    }

    /// Publishes `offline` (retained), waits for it, then sends DISCONNECT so the broker drops
    /// the last will; gives up after `limit`.
    async fn close(&mut self, driver: &mut Driver, limit: Duration) -> Result<(), MqttError> {
        let until = Instant::now() + limit;
        self.offline_accepted = false;
        self.status_out.push_back(OFFLINE);
        self.pump();
        while self.connected && !self.offline_accepted {
            if !self.step(driver, until).await? {
                break;
            }
        }
        if !self.connected {
            // The broker publishes our last will (`offline`) when it notices.
            warn!(broker = %self.broker, "connection lost while closing");
            return Ok(());
        }
        if self.client.try_disconnect().is_err() {
            return Ok(());
        }
        while self.connected && !self.disconnect_sent {
            if !self.step(driver, until).await? {
                break;
            }
        }
        if !self.disconnect_sent {
            warn!(broker = %self.broker, "DISCONNECT not sent within {limit:?}");
        }
        Ok(())
    }

    /// Handles one driver event; false when `until` passed first.
    async fn step(&mut self, driver: &mut Driver, until: Instant) -> Result<bool, MqttError> {
        tokio::select! {
            ev = driver.next() => {
                self.handle(ev.ok_or(MqttError::EventLoopStopped)?, driver);
                self.pump();
                Ok(true)
            }
            _ = tokio::time::sleep_until(until) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invalid_qos_fails_fast() {
        let cfg = MqttConfig {
            qos: 9,
            ..MqttConfig::default()
        };
        let r = run(
            cfg,
            "d".into(),
            Arc::new(DropOldestQueue::new(1)),
            Arc::new(Stats::default()),
            Shutdown::new(),
        )
        .await;
        assert!(matches!(r, Err(MqttError::InvalidQos(9))));
    }
}
