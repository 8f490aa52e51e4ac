//! Which of our publishes the broker has accepted. rumqttc reports an outgoing publish's packet
//! id only when it takes the request from its channel (`Outgoing::Publish(pkid)`, in submission
//! order) and the acknowledgement by packet id later (`PubAck` / `PubComp`). The tracker joins the
//! two so edge batches can be told from status/gpio publishes, counted when accepted, and handed
//! back for resending when the connection drops before the broker acknowledged them.

use std::collections::{HashMap, VecDeque};

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

/// A publish the broker has taken responsibility for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Accepted {
    /// An edge batch (acknowledged, or written to the socket at QoS 0).
    Edge,
    /// A batch replayed from the spool.
    Spooled(RecordId),
    /// The final `offline` status.
    Offline,
    /// Something else.
    Control,
}

/// Submitted-but-unacknowledged publishes of the current connection.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    /// Handed to rumqttc, packet id not known yet; front = oldest.
    awaiting: VecDeque<Tag>,
    /// Written with a packet id, waiting for the broker's acknowledgement.
    inflight: HashMap<u16, Tag>,
    /// A publish rumqttc held back because its packet id was still in use (broker acked out of
    /// order); it goes out once that id is acknowledged.
    collided: Option<(u16, Tag)>,
    /// Live edge batches among all of the above.
    edges: usize,
    /// Spooled batches among all of the above.
    spooled: usize,
}

impl Tracker {
    /// Records a publish just handed to rumqttc.
    pub(crate) fn submitted(&mut self, tag: Tag) {
        match tag {
            Tag::Edge { .. } => self.edges += 1,
            Tag::Spooled(_) => self.spooled += 1,
            Tag::Offline | Tag::Control => {}
        }
        self.awaiting.push_back(tag);
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

    fn accept(&mut self, tag: Tag) -> Accepted {
        match tag {
            Tag::Edge { .. } => {
                self.edges -= 1;
                Accepted::Edge
            }
            Tag::Spooled(id) => {
                self.spooled -= 1;
                Accepted::Spooled(id)
            }
            Tag::Offline => Accepted::Offline,
            Tag::Control => Accepted::Control,
        }
    }

    /// rumqttc wrote a publish with `pkid` (0 = QoS 0: accepted as soon as it is written).
    pub(crate) fn on_outgoing_publish(&mut self, pkid: u16) -> Option<Accepted> {
        if pkid != 0 && self.inflight.contains_key(&pkid) {
            // A retransmission of a publish we already know (resumed session): nothing new.
            return None;
        }
        let tag = match self.collided.take() {
            Some((id, tag)) if id == pkid => tag,
            other => {
                self.collided = other;
                self.awaiting.pop_front()?
            }
        };
        if pkid == 0 {
            return Some(self.accept(tag));
        }
        self.inflight.insert(pkid, tag);
        None
    }

    /// rumqttc held the next publish back until `pkid` is acknowledged.
    pub(crate) fn on_await_ack(&mut self, pkid: u16) {
        if let Some(tag) = self.awaiting.pop_front() {
            self.collided = Some((pkid, tag));
        }
    }

    /// The broker acknowledged `pkid` (PubAck at QoS 1, PubComp at QoS 2).
    pub(crate) fn on_ack(&mut self, pkid: u16) -> Option<Accepted> {
        let tag = self.inflight.remove(&pkid)?;
        Some(self.accept(tag))
    }

    /// The connection dropped: forget everything and return the unacknowledged edge batches in
    /// their original order, to be resent on the next connection.
    pub(crate) fn connection_lost(&mut self) -> Vec<(u64, Batch)> {
        let mut lost: Vec<(u64, Batch)> = self
            .inflight
            .drain()
            .map(|(_, t)| t)
            .chain(self.collided.take().map(|(_, t)| t))
            .chain(self.awaiting.drain(..))
            .filter_map(|t| match t {
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
mod tests {
    use super::*;

    fn edge(order: u64) -> Tag {
        Tag::Edge {
            order,
            batch: Batch {
                run: 1,
                seq: order,
                ..Batch::default()
            },
        }
    }

    #[test]
    fn qos1_edge_counted_on_ack_only() {
        let mut t = Tracker::default();
        t.submitted(Tag::Control);
        t.submitted(edge(0));
        assert_eq!(t.edges_outstanding(), 1);
        assert_eq!(t.on_outgoing_publish(1), None);
        assert_eq!(t.on_outgoing_publish(2), None);
        assert_eq!(t.awaiting(), 0);
        assert_eq!(t.on_ack(2), Some(Accepted::Edge));
        assert_eq!(t.on_ack(1), Some(Accepted::Control));
        assert_eq!(t.on_ack(1), None, "unknown pkid ignored");
        assert_eq!(t.edges_outstanding(), 0);
    }

    #[test]
    fn qos0_edge_counted_when_written() {
        let mut t = Tracker::default();
        t.submitted(edge(0));
        assert_eq!(t.on_outgoing_publish(0), Some(Accepted::Edge));
        assert_eq!(t.edges_outstanding(), 0);
    }

    #[test]
    fn lost_connection_returns_unacked_edges_in_order() {
        let mut t = Tracker::default();
        for i in 0..4 {
            t.submitted(edge(i));
        }
        t.submitted(Tag::Offline);
        t.on_outgoing_publish(7);
        t.on_outgoing_publish(3);
        t.on_ack(7); // edge 0 accepted
        let lost: Vec<u64> = t.connection_lost().into_iter().map(|(o, _)| o).collect();
        assert_eq!(lost, vec![1, 2, 3]);
        assert_eq!(t.edges_outstanding(), 0);
        assert_eq!(t.awaiting(), 0);
    }

    #[test]
    fn collision_resolves_on_ack() {
        let mut t = Tracker::default();
        t.submitted(edge(0));
        t.submitted(edge(1));
        t.on_outgoing_publish(1);
        t.on_await_ack(1);
        assert_eq!(t.on_ack(1), Some(Accepted::Edge));
        assert_eq!(t.on_outgoing_publish(1), None);
        assert_eq!(t.on_ack(1), Some(Accepted::Edge));
        assert_eq!(t.edges_outstanding(), 0);
    }

    #[test]
    fn replayed_publish_is_not_a_new_one() {
        let mut t = Tracker::default();
        t.submitted(edge(0));
        t.submitted(edge(1));
        t.on_outgoing_publish(5);
        assert_eq!(t.on_outgoing_publish(5), None);
        assert_eq!(t.awaiting(), 1);
    }
}
