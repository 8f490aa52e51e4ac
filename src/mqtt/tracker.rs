//! Which of our publishes the broker has accepted. rumqttc reports an outgoing publish's packet
//! id only when it takes the request from its channel (`Outgoing::Publish(pkid)`, in submission
//! order) and the acknowledgement by packet id later (`PubAck` / `PubComp`). The tracker joins the
//! two so edge batches can be told from status/gpio publishes, counted when accepted, and handed
//! back for resending when the connection drops before the broker acknowledged them.
//!
//! It also times live edge batches, from the hand-over to rumqttc to their acceptance (PUBACK
//! or PUBCOMP; the socket write at QoS 0), into a bounded histogram read by the stats message.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use super::latency::LatencyHistogram;
use crate::edges::batch::Batch;
use crate::spool::RecordId;

/// What a publish was, so its acknowledgement can be attributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tag {
    /// An edge batch; `order` is its submission rank, used to resend in the original order.
    Edge { order: u64, batch: Batch },
    /// A batch replayed from the spool: acknowledged there, rewound there when the connection
    /// drops (the spool already holds it, so it is not handed back).
    Spooled(RecordId),
    /// The retained `offline` status published on clean shutdown.
    Offline,
    /// Any other status or gpio publish: republished from state after a reconnect anyway.
    Control,
}

/// A publish the broker has taken responsibility for (named apart from the remote config's
/// `Accepted`, which is a patch taken by the controller).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// An edge batch (acknowledged, or written to the socket at QoS 0).
    Edge,
    /// A batch replayed from the spool.
    Spooled(RecordId),
    /// The final `offline` status.
    Offline,
    /// Something else.
    Control,
}

/// A publish handed to rumqttc, and when.
#[derive(Debug)]
struct Sent {
    tag: Tag,
    at: Instant,
}

/// Submitted-but-unacknowledged publishes of the current connection.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    /// Handed to rumqttc, packet id not known yet; front = oldest.
    awaiting: VecDeque<Sent>,
    /// Written with a packet id, waiting for the broker's acknowledgement.
    inflight: HashMap<u16, Sent>,
    /// A publish rumqttc held back because its packet id was still in use (broker acked out of
    /// order); it goes out once that id is acknowledged.
    collided: Option<(u16, Sent)>,
    /// Live edge batches among all of the above.
    edges: usize,
    /// Spooled batches among all of the above.
    spooled: usize,
    /// Hand-over-to-acceptance times of live edge batches, since the stats last read them.
    pub(crate) latency: LatencyHistogram,
}

impl Tracker {
    /// Records a publish handed to rumqttc at `at`.
    pub(crate) fn submitted(&mut self, tag: Tag, at: Instant) {
        match tag {
            Tag::Edge { .. } => self.edges += 1,
            Tag::Spooled(_) => self.spooled += 1,
            Tag::Offline | Tag::Control => {}
        }
        self.awaiting.push_back(Sent { tag, at });
    }

    /// Requests handed to rumqttc that it has not taken from its channel yet.
    pub(crate) fn awaiting(&self) -> usize {
        self.awaiting.len()
    }

    /// Live edge batches not yet accepted by the broker.
    pub(crate) fn edges_outstanding(&self) -> usize {
        self.edges
    }

    /// Spooled batches submitted and not yet accepted by the broker.
    pub(crate) fn spooled_outstanding(&self) -> usize {
        self.spooled
    }

    fn accept(&mut self, sent: Sent, now: Instant) -> Delivered {
        match sent.tag {
            Tag::Edge { .. } => {
                self.edges -= 1;
                self.latency.record(now.saturating_duration_since(sent.at));
                Delivered::Edge
            }
            Tag::Spooled(id) => {
                self.spooled -= 1;
                Delivered::Spooled(id)
            }
            Tag::Offline => Delivered::Offline,
            Tag::Control => Delivered::Control,
        }
    }

    /// rumqttc wrote a publish with `pkid` at `now` (0 = QoS 0: accepted as soon as it is
    /// written).
    pub(crate) fn on_outgoing_publish(&mut self, pkid: u16, now: Instant) -> Option<Delivered> {
        if pkid != 0 && self.inflight.contains_key(&pkid) {
            // A retransmission of a publish we already know (resumed session): nothing new.
            return None;
        }
        let sent = match self.collided.take() {
            Some((id, sent)) if id == pkid => sent,
            other => {
                self.collided = other;
                self.awaiting.pop_front()?
            }
        };
        if pkid == 0 {
            return Some(self.accept(sent, now));
        }
        self.inflight.insert(pkid, sent);
        None
    }

    /// rumqttc held the next publish back until `pkid` is acknowledged.
    pub(crate) fn on_await_ack(&mut self, pkid: u16) {
        if let Some(sent) = self.awaiting.pop_front() {
            self.collided = Some((pkid, sent));
        }
    }

    /// The broker acknowledged `pkid` (PubAck at QoS 1, PubComp at QoS 2) at `now`.
    pub(crate) fn on_ack(&mut self, pkid: u16, now: Instant) -> Option<Delivered> {
        let sent = self.inflight.remove(&pkid)?;
        Some(self.accept(sent, now))
    }

    /// The connection dropped: forget everything and return the unacknowledged edge batches in
    /// their original order, to be resent on the next connection.
    pub(crate) fn connection_lost(&mut self) -> Vec<(u64, Batch)> {
        let mut lost: Vec<(u64, Batch)> = self
            .inflight
            .drain()
            .map(|(_, s)| s)
            .chain(self.collided.take().map(|(_, s)| s))
            .chain(self.awaiting.drain(..))
            .filter_map(|s| match s.tag {
                Tag::Edge { order, batch } => Some((order, batch)),
                _ => None,
            })
            .collect();
        lost.sort_by_key(|(order, _)| *order);
        self.edges = 0;
        self.spooled = 0;
        lost
    }
}

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;
