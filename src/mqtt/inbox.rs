//! Received messages on their way to the controller, and the acknowledgements they owe the
//! broker. With manual acknowledgement a patch is acknowledged only once the controller has
//! handled it, so one the agent never processed stays with the broker and comes again; what
//! the controller's channel has no room for waits here, in order, unacknowledged.

use std::collections::VecDeque;

use rumqttc::QoS;
use tokio::sync::mpsc::error::TrySendError;

use super::control::{Ack, ControlLink, Inbound};

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    /// CONNACKs so far: an acknowledgement belongs to the connection its message came on.
    connection: u64,
    /// Received messages to acknowledge, for the shell.
    acks: VecDeque<rumqttc::Publish>,
    /// Patches the controller's channel had no room for, in order, not acknowledged yet.
    waiting: VecDeque<Inbound>,
}

impl Inbox {
    /// A new connection was accepted: acknowledgements from now on belong to it.
    pub(crate) fn connected(&mut self) {
        self.connection += 1;
    }

    /// The next received message to acknowledge to the broker.
    pub(crate) fn next_ack(&mut self) -> Option<rumqttc::Publish> {
        self.acks.pop_front()
    }

    /// Acknowledges a message of the current connection now.
    pub(crate) fn ack_now(&mut self, qos: QoS, pkid: u16) {
        if qos != QoS::AtMostOnce {
            let mut p = rumqttc::Publish::new("", qos, Vec::new());
            p.pkid = pkid;
            self.acks.push_back(p);
        }
    }

    /// What will acknowledge a message of `qos` with `pkid` received on this connection.
    pub(crate) fn ack_for(&self, qos: QoS, pkid: u16) -> Option<Ack> {
        (qos != QoS::AtMostOnce).then_some(Ack {
            connection: self.connection,
            pkid,
            qos,
        })
    }

    /// The controller handled a message: acknowledge it if its connection is still up
    /// (`connected`), and hand the controller what waited for room.
    pub(crate) fn done(&mut self, ack: Ack, connected: bool, control: Option<&ControlLink>) {
        if ack.connection == self.connection && connected {
            self.ack_now(ack.qos, ack.pkid);
        }
        self.hand_over(control);
    }

    /// Queues `msg` for the controller, never dropping it: what the channel has no room for
    /// waits here (bounded by what the broker sends without acknowledgement).
    pub(crate) fn deliver(&mut self, msg: Inbound, control: Option<&ControlLink>) {
        self.waiting.push_back(msg);
        self.hand_over(control);
    }

    /// Moves waiting patches into the controller's channel while it has room.
    fn hand_over(&mut self, control: Option<&ControlLink>) {
        let Some(c) = control else {
            self.waiting.clear();
            return;
        };
        while let Some(msg) = self.waiting.pop_front() {
            match c.inbound.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(msg)) => {
                    self.waiting.push_front(msg);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    self.waiting.clear();
                    return;
                }
            }
        }
    }

    /// The connection is gone: its acknowledgements can no longer be sent, and what waited for
    /// the controller is delivered again by the broker on the next one.
    pub(crate) fn forget(&mut self) {
        self.acks.clear();
        self.waiting.clear();
    }
}

#[cfg(test)]
#[path = "inbox_tests.rs"]
mod tests;
