//! The one place that knows the priority order of publishes. The parts that want to publish
//! offer their next message; the pump asks them in this order and takes the first offer:
//!
//! 1. status (`online` first on a connect, `offline` on a clean close),
//! 2. the retained `config`,
//! 3. `info` and the Home Assistant discovery configs,
//! 4. `config/result` payloads,
//! 5. clears of retained topics no longer used,
//! 6. the due stats report,
//! 7. meter readings, then watchdog events,
//! 8. spooled batches (ahead of live ones within the replay rate),
//! 9. live batches,
//! 10. the gpio levels that changed.
//!
//! It only decides: the shell hands each [`Message`] to the client and reports back whether
//! the client took it ([`Pump::sent`]) or not ([`Pump::refused`]); at most
//! [`REQUEST_CAPACITY`] publishes wait in the client's channel.

use std::time::Instant;

use rumqttc::QoS;

use super::batches::Batches;
use super::message::{Message, Origin};
use super::metering::Metering;
use super::options::REQUEST_CAPACITY;
use super::reporting::Reporter;
use super::tracker::{Tag, Tracker};
use super::traffic::Traffic;
use crate::presence::{Announcement, Announcer, HeldTopics};
use crate::wire::discovery::{PAYLOAD_OFF, PAYLOAD_ON};
use crate::wire::{Topics, OFFLINE};

/// The parts that offer publishes, and the tracker of what was handed out.
pub(crate) struct Pump {
    /// Status, config, results, clears and gpio levels.
    pub(crate) traffic: Traffic,
    /// `info` and discovery.
    pub(crate) announce: Announcer,
    /// The retained device topics the broker may hold of ours.
    pub(crate) held: HeldTopics,
    /// The periodic stats message, when enabled.
    pub(crate) reporter: Option<Reporter>,
    /// Meter readings and watchdog events.
    pub(crate) metering: Metering,
    /// Live and spooled edge batches.
    pub(crate) batches: Batches,
    /// Publishes handed to the client and not yet accepted by the broker.
    pub(crate) tracker: Tracker,
}

/// A retained or not, QoS 1 publish of `payload` on `topic`.
fn control(topic: String, payload: Vec<u8>, retain: bool, origin: Origin) -> Message {
    Message {
        topic,
        payload,
        qos: QoS::AtLeastOnce,
        retain,
        origin,
    }
}

impl Pump {
    /// The next publish, in priority order, under `topics` with `qos` for batches; `None` when
    /// nothing is due or the client's channel is full.
    pub(crate) fn next(&mut self, topics: &Topics, qos: QoS, now: Instant) -> Option<Message> {
        if self.tracker.awaiting() >= REQUEST_CAPACITY {
            return None;
        }
        if let Some(status) = self.traffic.status() {
            let payload = status.as_bytes().to_vec();
            return Some(control(
                topics.status(),
                payload,
                true,
                Origin::Status(status),
            ));
        }
        if let Some(config) = self.traffic.config() {
            let payload = config.clone().into_bytes();
            self.held.hold(&topics.config());
            return Some(control(topics.config(), payload, true, Origin::Config));
        }
        if let Some(a) = self.announce.offer() {
            let (topic, payload) = match &a {
                Announcement::Info(info) => {
                    self.held.hold(&topics.info());
                    (topics.info(), info.clone())
                }
                Announcement::Discovery(due) => (due.topic.clone(), due.payload.clone()),
            };
            return Some(control(
                topic,
                payload.into_bytes(),
                true,
                Origin::Announce(a),
            ));
        }
        if let Some(result) = self.traffic.result() {
            let payload = result.clone().into_bytes();
            return Some(control(
                topics.config_result(),
                payload,
                false,
                Origin::Result,
            ));
        }
        if let Some((topic, correlation, payload)) = self.traffic.response() {
            let origin = Origin::Response(correlation.clone());
            return Some(control(
                topic.clone(),
                payload.clone().into_bytes(),
                false,
                origin,
            ));
        }
        if let Some(topic) = self.traffic.cleared() {
            // An empty retained payload deletes what the broker kept on the topic.
            let origin = Origin::Cleared(topic.clone());
            return Some(control(topic.clone(), Vec::new(), true, origin));
        }
        if let Some(report) = self.reporter.as_ref().and_then(Reporter::due) {
            let payload = report.clone().into_bytes();
            return Some(control(topics.stats(), payload, false, Origin::Stats));
        }
        if let Some((pin, payload)) = self.metering.reading() {
            let topic = topics.meter(pin);
            self.held.hold(&topic);
            let payload = payload.clone().into_bytes();
            return Some(control(topic, payload, true, Origin::Meter(pin)));
        }
        if let Some((pin, payload)) = self.metering.watchdog() {
            let payload = payload.clone().into_bytes();
            return Some(control(
                topics.watchdog(*pin),
                payload,
                false,
                Origin::Watchdog,
            ));
        }
        let in_flight = self.tracker.spooled_outstanding();
        if let Some((id, payload)) = self.batches.next_spooled(in_flight, now) {
            return Some(Message {
                topic: topics.edges(),
                payload,
                qos,
                retain: false,
                origin: Origin::Spooled(id),
            });
        }
        if let Some((order, batch, payload)) = self.batches.next_live(now) {
            return Some(Message {
                topic: topics.edges(),
                payload,
                qos,
                retain: false,
                origin: Origin::Live { order, batch },
            });
        }
        if let Some((pin, level)) = self.traffic.gpio() {
            let payload = if level != 0 { PAYLOAD_ON } else { PAYLOAD_OFF };
            let topic = topics.gpio(pin);
            self.held.hold(&topic);
            let origin = Origin::Gpio { pin, level };
            return Some(control(topic, payload.as_bytes().to_vec(), true, origin));
        }
        None
    }

    /// The client took the message offered from `origin` at `now`: its part moves on, and the
    /// tracker waits for the broker to accept it.
    pub(crate) fn sent(&mut self, origin: Origin, now: Instant) {
        let tag = match origin {
            Origin::Status(status) => {
                self.traffic.status_sent();
                if status == OFFLINE {
                    Tag::Offline
                } else {
                    Tag::Control
                }
            }
            Origin::Config => {
                self.traffic.config_sent();
                Tag::Control
            }
            Origin::Announce(a) => {
                self.announce.sent(a);
                Tag::Control
            }
            Origin::Result => {
                self.traffic.result_sent();
                Tag::Control
            }
            Origin::Response(_) => {
                self.traffic.response_sent();
                Tag::Control
            }
            Origin::Cleared(topic) => {
                self.traffic.cleared_sent();
                self.held.release(&topic);
                Tag::Control
            }
            Origin::Stats => {
                if let Some(r) = self.reporter.as_mut() {
                    r.sent();
                }
                Tag::Control
            }
            Origin::Meter(pin) => {
                self.metering.reading_sent(pin);
                Tag::Control
            }
            Origin::Watchdog => {
                self.metering.watchdog_sent();
                Tag::Control
            }
            Origin::Probe => Tag::Control,
            Origin::Spooled(id) => {
                self.batches.spooled_sent();
                Tag::Spooled(id)
            }
            Origin::Live { order, batch } => Tag::Edge { order, batch },
            Origin::Gpio { pin, level } => {
                self.traffic.gpio_sent(pin, level);
                Tag::Control
            }
        };
        self.tracker.submitted(tag, now);
    }

    /// The client did not take the message offered from `origin` (its channel is full or
    /// closed): it stays first of its part, to be offered again.
    pub(crate) fn refused(&mut self, origin: Origin) {
        if let Origin::Live { order, batch } = origin {
            self.batches.live_refused(order, batch);
        }
    }
}
#[cfg(test)]
#[path = "pump_tests.rs"]
mod tests;
