//! The publisher as a state machine, after rumqttc's own `MqttState`: its methods change state
//! and decide what to publish or subscribe next, without network operations and without reading
//! a clock (time is passed in). The IO shell (`shell.rs`) owns the client and the event
//! loop, feeds it queue entries, broker events and commands, and carries out its decisions.
//!
//! Delivery is at least once: batches not acknowledged when the connection drops are resent, in
//! order, after the next ConnAck (a consumer may see a `(run, seq)` twice, never a hole that the
//! publisher could have filled).

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{Event, Incoming, QoS};

use super::control::Reply;
use super::reasons::{packet_too_large, response_topic_problem, RejectLog, Rejection};
use tracing::{error, info, warn};

use super::batches::Batches;
use super::control::{Ack, ControlLink, Inbound};
use super::inbox::Inbox;
use super::message::{Message, Origin};
use super::metering::Metering;
use super::proof::Proof;
use super::pump::Pump;
use super::reporting::{Measured, Reporter};
use super::session::Session;
use super::tracker::{Delivered, Tag, Tracker};
use super::traffic::Traffic;
use crate::config::SpoolConfig;
use crate::edges::batch::Batch;
use crate::presence::{Announcer, HeldTopics, Resubscribe, SessionRecord};
use crate::procstat::ProcessSample;
use crate::queue::Outgoing;
use crate::stats::Stats;
use crate::wire::{Description, Topics};

/// Per-process publishing state.
pub(crate) struct Publisher {
    topics: Topics,
    /// QoS of edge batches.
    qos: QoS,
    stats: Arc<Stats>,
    /// The connection's state over drops.
    pub(crate) session: Session,
    /// The parts that offer publishes, in their priority order.
    pump: Pump,
    /// What the broker's persistent session is subscribed to.
    subscriptions: SessionRecord,
    /// Subscription changes for the shell to send.
    requests: VecDeque<Resubscribe>,
    /// The remote-config controller's end, when one is attached.
    control: Option<ControlLink>,
    /// [`Stats::spool_state_changes`] when the announcer last heard of the spool's state.
    spool_state_seen: Option<u64>,
    /// Whether the current connection proves itself (with a controller only).
    proof: Proof,
    /// Publish nothing but the probe until the connection is proven: it replaces settings that
    /// worked, and what it publishes may be discarded by the broker (see `proof`).
    probation: bool,
    /// Makes the probes of this process differ from those of earlier runs still queued in the
    /// persistent session.
    probe_seed: u64,
    /// Received patches on their way to the controller, and the acknowledgements they owe.
    inbox: Inbox,
    /// Bounds the log lines of publishes the broker refused (MQTT 5).
    rejects: RejectLog,
    /// MQTT 5: the largest packet the broker takes on this connection (its CONNACK's Maximum
    /// Packet Size), if it announced one.
    broker_max_packet: Option<u32>,
}

impl Publisher {
    /// A publisher of the device of `topics` to `broker`, not connected at `now`, keeping
    /// nothing on disk.
    pub(crate) fn new(
        topics: Topics,
        qos: QoS,
        stats: Arc<Stats>,
        broker: String,
        now: Instant,
    ) -> Self {
        let device = topics.device.clone();
        Publisher {
            topics,
            qos,
            stats,
            session: Session::new(broker, now),
            pump: Pump {
                traffic: Traffic::default(),
                announce: Announcer::default(),
                held: HeldTopics::in_memory(),
                reporter: None,
                metering: Metering::default(),
                batches: Batches::new(device),
                tracker: Tracker::default(),
            },
            subscriptions: SessionRecord::in_memory(),
            requests: VecDeque::new(),
            control: None,
            spool_state_seen: None,
            proof: Proof::default(),
            probation: false,
            probe_seed: crate::random::os_random(),
            inbox: Inbox::default(),
            rejects: RejectLog::default(),
            broker_max_packet: None,
        }
    }

    /// The next received message to acknowledge to the broker.
    pub(crate) fn next_ack(&mut self) -> Option<rumqttc::Publish> {
        self.inbox.next_ack()
    }

    /// The controller handled a message: acknowledge it if its connection is still up, and
    /// hand it what waited for room.
    pub(crate) fn controller_done(&mut self, ack: Ack) {
        let connected = self.session.connected;
        self.inbox.done(ack, connected, self.control.as_ref());
    }

    /// Keeps the records of what the device owns on the broker in `state_dir`.
    pub(crate) fn remember_in(&mut self, state_dir: &Path) {
        self.subscriptions = SessionRecord::load(state_dir);
        self.pump.announce = Announcer::load(state_dir);
        self.pump.held = HeldTopics::load(state_dir);
    }

    /// Attaches the remote-config controller.
    pub(crate) fn set_control(&mut self, link: Option<ControlLink>) {
        self.control = link;
    }

    /// Publishes the stats reports of `reporter`.
    pub(crate) fn set_reporter(&mut self, reporter: Reporter) {
        self.pump.reporter = Some(reporter);
    }

    /// Whether the broker accepted the current connection.
    pub(crate) fn connected(&self) -> bool {
        self.session.connected
    }

    /// QoS of the next batches.
    pub(crate) fn set_qos(&mut self, qos: QoS) {
        self.qos = qos;
    }

    /// Sets the retained `config` payload and publishes it (now if connected).
    pub(crate) fn set_config(&mut self, payload: String) {
        self.pump.traffic.set_config(payload);
    }

    /// Queues a `config/result` payload.
    pub(crate) fn push_result(&mut self, payload: String) {
        self.pump.traffic.push_result(payload);
    }

    /// Queues an MQTT 5 response: the result, to the request's Response Topic.
    pub(crate) fn push_response(&mut self, payload: String, reply: Reply) {
        self.pump
            .traffic
            .push_response(reply.topic, reply.correlation, payload);
    }

    /// Tells the controller whether the broker accepted the connection, and how its proof
    /// stands.
    fn set_link(&self, connected: bool) {
        if let Some(c) = &self.control {
            let proof = self.proof.outcome().cloned();
            c.link.send_if_modified(|l| {
                let changed = l.connected != connected || l.proof != proof;
                l.connected = connected;
                l.proof = proof;
                changed
            });
        }
    }

    /// Live batches not yet accepted by the broker.
    pub(crate) fn edges_outstanding(&self) -> usize {
        self.pump.batches.waiting() + self.pump.tracker.edges_outstanding()
    }

    /// Nothing left to publish.
    pub(crate) fn idle(&self) -> bool {
        let p = &self.pump;
        self.edges_outstanding() == 0
            && p.traffic.gpio().is_none()
            && !p.traffic.clears_pending()
            && !p.batches.backlog_left(p.tracker.spooled_outstanding())
            && !p.announce.pending()
            && !p.metering.pending()
    }

    /// Takes one entry from the queue at `now`.
    pub(crate) fn accept(&mut self, o: Outgoing, now: Instant) {
        let traffic = &mut self.pump.traffic;
        match o {
            Outgoing::Levels(levels) => {
                for l in levels {
                    traffic.level(l.pin, l.level);
                }
            }
            Outgoing::Batch(b) => {
                for l in &b.levels {
                    traffic.level(l.pin, l.level);
                }
                let connected = self.session.connected;
                self.pump.batches.accept(b, connected, &self.stats, now);
            }
            Outgoing::Removed(pins) => {
                for pin in pins {
                    traffic.removed(pin, self.topics.gpio(pin));
                    self.pump.metering.forget(pin);
                }
            }
            Outgoing::Meter(e) => self.pump.metering.accept(e),
        }
    }

    /// A packet the event loop sent or received at `now`.
    pub(crate) fn handle(&mut self, ev: Event, now: Instant) {
        let tracker = &mut self.pump.tracker;
        let delivered = match ev {
            Event::Incoming(Incoming::ConnAck(ack)) => {
                self.on_connack(ack.session_present, now);
                None
            }
            Event::Incoming(Incoming::PubAck(ack)) => tracker.on_ack(ack.pkid, now),
            Event::Incoming(Incoming::PubComp(comp)) => tracker.on_ack(comp.pkid, now),
            Event::Outgoing(rumqttc::Outgoing::Publish(pkid)) => {
                tracker.on_outgoing_publish(pkid, now)
            }
            Event::Outgoing(rumqttc::Outgoing::AwaitAck(pkid)) => {
                tracker.on_await_ack(pkid);
                None
            }
            Event::Outgoing(rumqttc::Outgoing::Disconnect) => {
                self.session.disconnect_sent = true;
                None
            }
            Event::Outgoing(rumqttc::Outgoing::Subscribe(pkid)) => {
                self.proof.subscribe_sent(pkid);
                None
            }
            Event::Incoming(Incoming::SubAck(ack)) => {
                let granted: Vec<bool> = ack
                    .return_codes
                    .iter()
                    .map(|c| matches!(c, rumqttc::SubscribeReasonCode::Success(_)))
                    .collect();
                let refused = self.proof.suback(ack.pkid, &granted);
                if !refused.is_empty() {
                    warn!(broker = %self.session.broker, ?refused,
                        "the broker refused subscriptions: check its ACL for this device");
                }
                self.set_link(self.session.connected);
                None
            }
            Event::Incoming(Incoming::Publish(p)) => {
                self.inbound(p, None);
                None
            }
            Event::Incoming(_) | Event::Outgoing(_) => None,
        };
        match delivered {
            Some(Delivered::Edge) => Stats::add(&self.stats.batches_sent, 1),
            Some(Delivered::Spooled(id)) => self.pump.batches.spooled_acked(id, &self.stats),
            Some(Delivered::Offline) => self.session.offline_accepted = true,
            Some(Delivered::Control) | None => {}
        }
    }

    /// MQTT 5: the broker refused publish `pkid` with a reason code. It is not sent: counted by
    /// reason, logged (at a bounded rate), and not resent (it would be refused again: a batch
    /// too big, or on a topic this device may not publish to); a spooled one leaves the spool.
    pub(crate) fn rejected(&mut self, pkid: u16, reason: Rejection, now: Instant) {
        Stats::add(&self.stats.rejected_by_broker[reason.0], 1);
        if let Some(quiet) = self.rejects.refused(reason, now) {
            warn!(broker = %self.session.broker, pkid, reason = reason.name(),
                not_logged_before = quiet,
                "the broker refused a publish (MQTT 5 reason code); it is not resent: check the \
                 broker's ACL and size limits for this device");
        }
        match self.pump.tracker.on_ack(pkid, now) {
            Some(Delivered::Spooled(id)) => {
                self.pump.batches.spooled_refused(id, &self.stats);
            }
            Some(Delivered::Offline) => self.session.offline_accepted = true,
            Some(Delivered::Edge | Delivered::Control) | None => {}
        }
    }

    /// MQTT 5: the broker's CONNACK announced `max` as the largest packet it takes (`None`: no
    /// limit); it holds for this connection.
    pub(crate) fn broker_limit(&mut self, max: Option<u32>) {
        if let Some(m) = max {
            info!(broker = %self.session.broker, max_packet_bytes = m,
                "the broker takes packets of at most this size on this connection");
        }
        self.broker_max_packet = max;
    }

    /// Whether a `size`-byte packet is within the broker's announced limit (always, on 3.1.1).
    pub(crate) fn fits_broker(&self, size: usize) -> bool {
        match self.broker_max_packet {
            None => true,
            Some(max) => u64::try_from(size).is_ok_and(|s| s <= u64::from(max)),
        }
    }

    /// MQTT 5: a batch of `size` bytes is over the broker's Maximum Packet Size. rumqttc would
    /// refuse it with a connection error, and on every later connection again: it is not sent,
    /// counted as `packet_too_large` (the broker's limit refused it), logged at a bounded rate,
    /// and not resent; a spooled one leaves the spool.
    pub(crate) fn too_large(&mut self, origin: Origin, size: usize, now: Instant) {
        let reason = packet_too_large();
        Stats::add(&self.stats.rejected_by_broker[reason.0], 1);
        if let Some(quiet) = self.rejects.refused(reason, now) {
            warn!(broker = %self.session.broker, size, max = self.broker_max_packet,
                reason = reason.name(), not_logged_before = quiet,
                "a batch is larger than the broker's Maximum Packet Size; it is not sent: lower \
                 batch.max_bytes below the broker's limit");
        }
        if let Origin::Spooled(id) = origin {
            self.pump.batches.spooled_refused(id, &self.stats);
        }
    }

    /// MQTT 5: a message that carries a Response Topic (and maybe Correlation Data). A topic
    /// that is not a plain bounded publish topic is not answered to (logged); the result then
    /// goes to `config/result` only, as always.
    pub(crate) fn request(
        &mut self,
        p: rumqttc::Publish,
        topic: String,
        correlation: Option<Vec<u8>>,
    ) {
        let reply = match response_topic_problem(&topic) {
            None => Some(Reply { topic, correlation }),
            Some(why) => {
                warn!(topic = %p.topic, problem = why,
                    "a config message's MQTT 5 Response Topic is not answered to; the result \
                     goes to config/result only");
                None
            }
        };
        self.inbound(p, reply);
    }

    /// A message on a subscribed topic: Home Assistant's status, or a `config/set` patch
    /// handed to the controller, never waited on.
    fn inbound(&mut self, p: rumqttc::Publish, reply: Option<Reply>) {
        if self.pump.announce.inbound(&p.topic, &p.payload) {
            self.inbox.ack_now(p.qos, p.pkid);
            return;
        }
        if p.topic == self.topics.probe() {
            self.inbox.ack_now(p.qos, p.pkid);
            self.proof.received(&p.payload);
            if self.proof.proven() && self.probation {
                info!(broker = %self.session.broker, "new MQTT settings proven: subscriptions \
                    granted and the probe came back");
                self.probation = false;
            }
            self.set_link(self.session.connected);
            return;
        }
        if self.control.is_none() {
            self.inbox.ack_now(p.qos, p.pkid);
            return;
        }
        if p.payload.len() > crate::config::MAX_PAYLOAD {
            // Refused by the controller with its size; counted here, where it arrives.
            Stats::add(&self.stats.patches_oversize, 1);
        }
        let ack = self.inbox.ack_for(p.qos, p.pkid);
        let msg = Inbound {
            group: p.topic != self.topics.config_set(),
            topic: p.topic,
            payload: p.payload.to_vec(),
            retained: p.retain,
            ack,
            reply,
        };
        // Never dropped: what the channel has no room for waits, unacknowledged, in order.
        self.inbox.deliver(msg, self.control.as_ref());
    }

    /// The `config/set` topics (with a controller) and Home Assistant's status topic (with
    /// discovery on). Exact topics only: no wildcard could match another device.
    fn wanted_subscriptions(&self) -> BTreeSet<String> {
        let mut wanted: BTreeSet<String> = match &self.control {
            Some(c) => [self.topics.config_set(), self.topics.probe()]
                .into_iter()
                .chain(c.groups.iter().map(|g| self.topics.group_config_set(g)))
                .collect(),
            None => BTreeSet::new(),
        };
        wanted.extend(self.pump.announce.ha_status());
        wanted
    }

    /// The next subscription change for the shell to send.
    pub(crate) fn next_request(&mut self) -> Option<Resubscribe> {
        let r = self.requests.pop_front()?;
        self.proof.requested(r.subscribe.clone());
        Some(r)
    }

    fn on_connack(&mut self, resumed: bool, now: Instant) {
        self.session.connected(&self.stats, now);
        self.inbox.connected();
        if self.control.is_some() {
            let n = Stats::get(&self.stats.connects);
            self.proof.start(format!("{:016x}-{n}", self.probe_seed));
        }
        self.pump.traffic.connected();
        self.pump.metering.connected();
        self.pump.announce.connected(resumed);
        self.pump.batches.connected(now);
        // Again at every connect: reconnects resume a persistent session, but a broker
        // restarted without persistence forgot it.
        let wanted = self.wanted_subscriptions();
        self.requests
            .push_back(self.subscriptions.subscribe(wanted));
        self.set_link(true);
    }

    /// A connection attempt failed or the connection dropped at `now`: unacknowledged batches
    /// go to the spool (or to the front of the live list), in order.
    pub(crate) fn lost(
        &mut self,
        error: &rumqttc::ConnectionError,
        retry_in: Duration,
        now: Instant,
    ) {
        self.session.lost(error, retry_in, &self.stats, now);
        if let Some(size) = super::oversize::oversize(error) {
            match super::oversize::remedy(size) {
                super::oversize::Remedy::Raise(_) => warn!(
                    size,
                    "a message too big for the usual limit broke the connection; the next \
                     connection reads it to refuse it"
                ),
                super::oversize::Remedy::Clean => {
                    Stats::add(&self.stats.patches_oversize, 1);
                    error!(
                        size,
                        cap = super::oversize::READ_CAP,
                        "a message too big to read broke the connection; the next connection \
                         starts a clean session so the broker drops it (and any patch queued \
                         with it)"
                    );
                }
            }
        }
        self.proof.stop();
        self.inbox.forget();
        self.set_link(false);
        self.take_back_unacked(now);
    }

    /// The connection is given up without an event at `now` (a new client replaces it).
    pub(crate) fn left(&mut self, now: Instant) {
        self.session.left(now);
        self.proof.stop();
        self.inbox.forget();
        self.take_back_unacked(now);
        self.set_link(false);
    }

    fn take_back_unacked(&mut self, now: Instant) {
        let unacked = self.pump.tracker.connection_lost();
        self.pump.batches.lost(unacked, &self.stats, now);
    }

    /// The next publish to hand to the client, in priority order; none while disconnected.
    pub(crate) fn next_message(&mut self, now: Instant) -> Option<Message> {
        if !self.session.connected {
            return None;
        }
        self.follow_spool_state();
        if let Some(nonce) = self.proof.probe_due() {
            return Some(Message {
                topic: self.topics.probe(),
                payload: nonce.as_bytes().to_vec(),
                qos: QoS::AtLeastOnce,
                retain: false,
                origin: Origin::Probe,
            });
        }
        if self.probation && !self.proof.proven() {
            return None;
        }
        self.pump.next(&self.topics, self.qos, now)
    }

    /// Hands a changed spool state to the announcer (one relaxed load when nothing changed).
    fn follow_spool_state(&mut self) {
        let changes = Stats::get(&self.stats.spool_state_changes);
        if self.spool_state_seen != Some(changes) {
            self.spool_state_seen = Some(changes);
            let topics = self.topics.clone();
            self.pump.announce.spool(self.stats.spool_health(), &topics);
        }
    }

    /// The client took the message from `origin` at `now`.
    pub(crate) fn sent(&mut self, origin: Origin, now: Instant) {
        if origin == Origin::Probe {
            self.proof.probe_sent();
            self.pump.tracker.submitted(Tag::Control, now);
            return;
        }
        self.pump.sent(origin, now);
    }

    /// The client did not take the message from `origin`: it is offered again later.
    pub(crate) fn refused(&mut self, origin: Origin) {
        self.pump.refused(origin);
    }

    /// Takes a new description of the device (at start and after every config change):
    /// republishes `info` and the discovery configs that changed, clears those that went, and
    /// follows a changed `<ha prefix>/status`.
    pub(crate) fn describe(&mut self, d: Description) {
        let before = self.pump.announce.ha_status();
        let quiet = d.inventory.inputs.iter().filter(|i| !i.publish_level);
        self.pump.traffic.quiet(quiet.map(|i| i.pin).collect());
        for i in d.inventory.inputs.iter().filter(|i| i.meter.is_none()) {
            self.pump.metering.forget(i.pin);
        }
        self.pump.announce.describe(d, &self.topics);
        let topics = self.topics.clone();
        self.clear_stale(&topics);
        if self.session.connected && self.pump.announce.ha_status() != before {
            let wanted = self.wanted_subscriptions();
            self.requests.push_back(self.subscriptions.update(wanted));
        }
    }

    /// Queues clears for the retained device topics recorded as held that the device in force,
    /// under `topics`, does not use. The old prefix keeps only `status` (`offline`, for whoever
    /// still watches it). Nothing before a description arrived: a bare publisher leaves the
    /// record alone.
    pub(crate) fn clear_stale(&mut self, topics: &Topics) {
        let Some(d) = self.pump.announce.description() else {
            return;
        };
        let stale = self.pump.held.stale_for(d, topics);
        let queued = self.pump.traffic.clear(stale);
        if !queued.is_empty() {
            info!(topics = ?queued, "clearing retained topics the config in force no longer uses");
        }
    }

    /// A new client under `topics` to `broker` replaces the old one (whose queued requests are
    /// gone): every topic moves with the prefix, and the controller sees a new generation.
    pub(crate) fn moved(&mut self, topics: Topics, broker: String) {
        self.topics = topics;
        self.session.broker = broker;
        self.requests.clear();
        self.pump.announce.moved(&self.topics);
        let topics = self.topics.clone();
        self.clear_stale(&topics);
        self.probation = self.control.is_some();
        if let Some(c) = &self.control {
            c.link.send_modify(|l| {
                l.generation += 1;
                l.connected = false;
                l.proof = None;
            });
        }
    }

    /// Clears not yet handed to the client.
    pub(crate) fn clears_pending(&self) -> bool {
        self.pump.traffic.clears_pending()
    }

    /// Queues the retained `offline` of a clean close and waits for its acceptance anew.
    pub(crate) fn queue_offline(&mut self) {
        // Leaving: `offline` must go out even on a connection that did not prove itself.
        self.probation = false;
        self.session.offline_accepted = false;
        self.pump.traffic.offline();
    }

    /// Ends the current stats interval with what the shell measured at `now`.
    pub(crate) fn report_stats(&mut self, process: ProcessSample, t_us: u64, now: Instant) {
        let Some(r) = self.pump.reporter.as_mut() else {
            return;
        };
        let latency = &self.pump.tracker.latency;
        let latency_ms = latency
            .quantile_us(0.5)
            .zip(latency.quantile_us(0.99))
            .map(|(p50, p99)| (p50 / 1000.0, p99 / 1000.0));
        let pins = self.pump.traffic.pins();
        r.report(Measured {
            now,
            t_us,
            after: self.stats.snapshot(),
            process,
            latency_ms,
            pins: &pins,
            connected: self.session.connected,
        });
        self.pump.tracker.latency.clear();
    }

    /// Whether batches taken from the queue now would be spooled rather than kept in memory.
    pub(crate) fn spooling(&self) -> bool {
        self.pump.batches.spooling(self.session.connected)
    }

    /// Takes new spool settings (see [`Batches::reconfigure`]).
    pub(crate) fn reconfigure_spool(&mut self, dir: PathBuf, cfg: &SpoolConfig, now: Instant) {
        self.pump.batches.reconfigure(dir, cfg, &self.stats, now);
    }

    /// Whether the spool has periodic work due.
    pub(crate) fn spool_needs_tick(&self) -> bool {
        self.pump.batches.needs_tick()
    }

    /// Periodic spool work: interval syncs and gauges.
    pub(crate) fn spool_tick(&mut self, now: Instant) {
        self.pump.batches.tick(&self.stats, now);
    }

    /// Shutdown: everything not acknowledged (and still in `queue_rest`) goes to the spool,
    /// which is synced. Returns the batches that could not be kept.
    pub(crate) fn spool_remaining(&mut self, queue_rest: Vec<Batch>, now: Instant) -> usize {
        if !self.pump.batches.has_spool() {
            return self.edges_outstanding() + queue_rest.len();
        }
        let unacked = self.pump.tracker.connection_lost();
        self.pump
            .batches
            .remaining(unacked, queue_rest, &self.stats, now)
    }
}

#[cfg(test)]
#[path = "publisher_tests.rs"]
mod tests;
