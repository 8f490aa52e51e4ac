//! The publisher's state over connections: what is left to publish, what the broker accepted,
//! retained state to republish after a reconnect, and the remote-config traffic (subscriptions,
//! the retained `config`, results) when a controller is attached.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Incoming, QoS};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::announce::Announcer;
use super::control::{ControlLink, Inbound};
use super::driver::{Driver, LoopEvent};
use super::held::HeldTopics;
use super::reporting::Reporter;
use super::spooling::Backlog;
use super::subscriptions::SessionRecord;
use super::tracker::{Accepted, Tracker};
use crate::edges::batch::Batch;
use crate::queue::Outgoing;
use crate::stats::Stats;
use crate::wire::status::ONLINE;
use crate::wire::topics::Topics;

/// Results waiting for the broker; beyond this the oldest is dropped.
const MAX_RESULTS: usize = 64;

/// Per-process publishing state.
pub(crate) struct Publisher {
    pub(crate) client: AsyncClient,
    pub(crate) topics: Topics,
    pub(super) device: String,
    pub(crate) qos: QoS,
    pub(super) stats: Arc<Stats>,
    pub(crate) broker: String,
    pub(super) tracker: Tracker,
    /// Status payloads to publish, before anything else.
    pub(super) status_out: VecDeque<&'static str>,
    /// Batches to publish (resends first), with their submission rank.
    pub(super) edges_out: VecDeque<(u64, Batch)>,
    pub(super) next_order: u64,
    /// Latest level of every pin seen.
    pub(super) known: BTreeMap<u8, u8>,
    /// Level last published per pin on this connection.
    pub(super) published: BTreeMap<u8, u8>,
    /// Reused encode buffer.
    pub(super) buf: Vec<u8>,
    pub(crate) connected: bool,
    /// Failed attempts since the last successful connection.
    pub(super) failures: u32,
    pub(super) down_since: Option<Instant>,
    pub(super) offline_accepted: bool,
    pub(super) disconnect_sent: bool,
    /// The remote-config controller's end, when one is attached.
    pub(crate) control: Option<ControlLink>,
    /// The retained `config` payload, and whether this connection still needs it.
    pub(super) config: Option<String>,
    pub(super) config_due: bool,
    /// `config/result` payloads to publish.
    pub(super) results_out: VecDeque<String>,
    /// Retained topics of ours to delete with an empty payload: the gpio topic of a pin no
    /// longer watched, and what we left under a topic prefix we moved away from.
    pub(super) cleared_out: VecDeque<String>,
    /// The on-disk spool, when enabled.
    pub(super) backlog: Option<Backlog>,
    /// What the broker's persistent session is subscribed to.
    pub(super) session: SessionRecord,
    /// The periodic stats message, when enabled.
    pub(super) reporter: Option<Reporter>,
    /// The retained `info` and Home Assistant discovery.
    pub(super) announce: Announcer,
    /// The retained device topics the broker may hold of ours.
    pub(super) held: HeldTopics,
}

impl Publisher {
    pub(crate) fn new(
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
            control: None,
            config: None,
            config_due: false,
            results_out: VecDeque::new(),
            cleared_out: VecDeque::new(),
            backlog: None,
            session: SessionRecord::in_memory(),
            reporter: None,
            announce: Announcer::default(),
            held: HeldTopics::in_memory(),
        }
    }

    /// Sets the retained `config` payload and publishes it (now if connected).
    pub(crate) fn set_config(&mut self, payload: String) {
        self.config = Some(payload);
        self.config_due = true;
    }

    /// Queues a `config/result` payload.
    pub(crate) fn push_result(&mut self, payload: String) {
        if self.results_out.len() >= MAX_RESULTS {
            self.results_out.pop_front();
        }
        self.results_out.push_back(payload);
    }

    /// Tells the controller whether the broker accepted the connection.
    pub(crate) fn set_link(&self, connected: bool) {
        if let Some(c) = &self.control {
            c.link.send_modify(|l| l.connected = connected);
        }
    }

    pub(crate) fn edges_outstanding(&self) -> usize {
        self.edges_out.len() + self.tracker.edges_outstanding()
    }

    pub(super) fn next_gpio(&self) -> Option<(u8, u8)> {
        self.known
            .iter()
            .find(|(pin, level)| self.published.get(pin) != Some(level))
            .map(|(p, l)| (*p, *l))
    }

    /// Nothing left to publish.
    pub(crate) fn idle(&self) -> bool {
        self.edges_outstanding() == 0
            && self.next_gpio().is_none()
            && self.cleared_out.is_empty()
            && !self.backlog_left()
            && !self.announce.pending()
    }

    /// Takes one entry from the queue.
    pub(crate) fn accept(&mut self, o: Outgoing) {
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
                if self.spooling() {
                    self.spill(&b);
                } else {
                    self.edges_out.push_back((self.next_order, b));
                    self.next_order += 1;
                }
            }
            Outgoing::Removed(pins) => {
                for pin in pins {
                    self.known.remove(&pin);
                    self.published.remove(&pin);
                    self.cleared_out.push_back(self.topics.gpio(pin));
                }
            }
        }
    }

    pub(crate) fn handle(&mut self, ev: LoopEvent, driver: &Driver) {
        match ev {
            LoopEvent::Event(Event::Incoming(Incoming::ConnAck(ack))) => {
                self.connected(ack.session_present)
            }
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
            LoopEvent::Event(Event::Incoming(Incoming::Publish(p))) => self.inbound(p),
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
            Some(Accepted::Spooled(id)) => self.spooled_accepted(id),
            Some(Accepted::Offline) => self.offline_accepted = true,
            Some(Accepted::Control) | None => {}
        }
    }

    /// A message on a subscribed `config/set` topic: handed to the controller, never waited on.
    fn inbound(&mut self, p: rumqttc::Publish) {
        if self.ha_inbound(&p) {
            return;
        }
        let Some(c) = &self.control else { return };
        let msg = Inbound {
            topic: p.topic,
            payload: p.payload.to_vec(),
            retained: p.retain,
        };
        if c.inbound.try_send(msg).is_err() {
            warn!("remote config: too many patches at once; one dropped unanswered");
        }
    }

    /// Subscribes to this device's and its groups' `config/set` topics, again at every connect:
    /// reconnects resume a persistent session, but a broker restarted without persistence forgot
    /// it. Exact topics only: no wildcard could match another device.
    fn subscribe(&mut self) {
        let wanted = self.wanted_subscriptions();
        self.session.subscribe(&self.client, wanted);
    }

    /// The `config/set` topics (with a controller) and Home Assistant's status topic (with
    /// discovery on).
    pub(super) fn wanted_subscriptions(&self) -> BTreeSet<String> {
        let mut wanted: BTreeSet<String> = match &self.control {
            Some(c) => std::iter::once(self.topics.config_set())
                .chain(c.groups.iter().map(|g| self.topics.group_config_set(g)))
                .collect(),
            None => BTreeSet::new(),
        };
        wanted.extend(self.announce.ha_status());
        wanted
    }

    fn connected(&mut self, resumed: bool) {
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
        self.config_due = self.config.is_some();
        self.announce.connected(resumed);
        self.spool_connected();
        self.subscribe();
        self.set_link(true);
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
        self.set_link(false);
        // Unacknowledged batches go to the spool (or to the front of the list), in order.
        self.take_back_unacked();
    }
}
