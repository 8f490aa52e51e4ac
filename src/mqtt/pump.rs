//! Handing publishes to rumqttc, in priority order: status, the retained config, config
//! results, cleared retained topics, info and discovery, stats, spooled batches (ahead of live ones
//! within the replay rate), live batches, then the gpio levels that changed.

use rumqttc::QoS;

use super::options::REQUEST_CAPACITY;
use super::session::Publisher;
use super::tracker::Tag;
use crate::wire::discovery::{PAYLOAD_OFF, PAYLOAD_ON};
use crate::wire::payload::encode_batch;
use crate::wire::status::OFFLINE;

impl Publisher {
    /// Hands as much as the request channel allows to rumqttc: status, then batches, then the
    /// gpio levels that changed.
    pub(crate) fn pump(&mut self) {
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
            } else if let Some(config) = self.config.as_ref().filter(|_| self.config_due) {
                self.held.hold(&self.topics.config());
                let res = self.client.try_publish(
                    self.topics.config(),
                    QoS::AtLeastOnce,
                    true,
                    config.clone(),
                );
                if res.is_err() {
                    break;
                }
                self.config_due = false;
                self.tracker.submitted(Tag::Control);
            } else if self.announce_one() {
                // `info` or a discovery config (retained) went out.
            } else if let Some(result) = self.results_out.front() {
                let res = self.client.try_publish(
                    self.topics.config_result(),
                    QoS::AtLeastOnce,
                    false,
                    result.clone(),
                );
                if res.is_err() {
                    break;
                }
                self.results_out.pop_front();
                self.tracker.submitted(Tag::Control);
            } else if let Some(topic) = self.cleared_out.front() {
                // An empty retained payload deletes what the broker kept on the topic.
                let res =
                    self.client
                        .try_publish(topic.clone(), QoS::AtLeastOnce, true, Vec::new());
                if res.is_err() {
                    break;
                }
                if let Some(topic) = self.cleared_out.pop_front() {
                    self.held.release(&topic);
                }
                self.tracker.submitted(Tag::Control);
            } else if let Some(sent) = self.pump_stats() {
                if !sent {
                    break;
                }
            } else if self.replay_one(self.qos) {
                // A spooled batch went out: older than any live one, within the replay rate.
            } else if let Some((order, batch)) = self.next_live() {
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
                let payload = if level != 0 { PAYLOAD_ON } else { PAYLOAD_OFF };
                let topic = self.topics.gpio(pin);
                self.held.hold(&topic);
                let res = self
                    .client
                    .try_publish(topic, QoS::AtLeastOnce, true, payload);
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
}
