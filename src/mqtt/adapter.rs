//! The one event loop the driver polls, over rumqttc's MQTT 3.1.1 and MQTT 5 event loops. MQTT 5
//! packets are mapped onto the 3.1.1 events the state machines take (the internal event type),
//! and what only MQTT 5 says (a PUBACK reason code refusing a publish) becomes its own
//! [`Polled`] value; errors become 3.1.1 errors so failure kinds and oversize remedies stay
//! the same for both versions.

use std::io;

use rumqttc::v5;
use rumqttc::v5::mqttbytes::v5::{Packet, SubscribeReasonCode as V5Code};
use rumqttc::{
    ConnAck, ConnectReturnCode, ConnectionError, Event, EventLoop, Incoming, PubAck, PubComp,
    StateError, SubAck, SubscribeReasonCode,
};

use super::client::{v4_qos, Client};
use super::options::{incoming_limit, Options, MAX_INCOMING_PACKET_SIZE, MAX_PACKET_SIZE};
use super::oversize::Remedy;
use super::reasons::{rejection, Rejection};

/// An event loop of either version.
pub(crate) enum Loop {
    /// MQTT 3.1.1.
    V4(Box<EventLoop>),
    /// MQTT 5.
    V5(Box<v5::EventLoop>),
}

/// What one poll reports.
#[derive(Debug)]
pub(crate) enum Polled {
    /// A packet sent or received, as a 3.1.1 event.
    Event(Event),
    /// MQTT 5: the broker accepted the connection (`event` is the CONNACK as a 3.1.1 event) and
    /// may have announced the largest packet it takes.
    Connected {
        event: Event,
        max_packet: Option<u32>,
    },
    /// MQTT 5: the broker refused the publish with packet id `pkid`.
    Rejected { pkid: u16, reason: Rejection },
    /// MQTT 5: a message carrying a Response Topic (unchecked) and maybe Correlation Data.
    Request {
        publish: rumqttc::Publish,
        topic: String,
        correlation: Option<Vec<u8>>,
    },
}

/// A client and its event loop for `options`; `cap` is the request channel's capacity.
pub(crate) fn client(options: Options, cap: usize) -> (Client, Loop) {
    match options {
        Options::V4(o) => {
            let (c, l) = rumqttc::AsyncClient::new(*o, cap);
            (Client::V4(c), Loop::V4(Box::new(l)))
        }
        Options::V5(o) => {
            let (c, l) = v5::AsyncClient::new(*o, cap);
            (Client::V5(c), Loop::V5(Box::new(l)))
        }
    }
}

impl Loop {
    /// The next event, or the error that ended the connection.
    pub(crate) async fn poll(&mut self) -> Result<Polled, ConnectionError> {
        match self {
            Loop::V4(l) => l.poll().await.map(Polled::Event),
            Loop::V5(l) => match l.poll().await {
                Ok(ev) => Ok(map_event(ev)),
                Err(e) => Err(map_error(e)),
            },
        }
    }

    /// After a CONNACK: what an oversized message changed applies to that connection only.
    pub(crate) fn connected(&mut self) {
        match self {
            Loop::V4(l) => {
                l.mqtt_options
                    .set_max_packet_size(MAX_INCOMING_PACKET_SIZE, MAX_PACKET_SIZE)
                    .set_clean_session(false);
            }
            Loop::V5(l) => {
                l.options
                    .set_max_packet_size(Some(incoming_limit(MAX_INCOMING_PACKET_SIZE)))
                    .set_clean_start(false);
            }
        }
    }

    /// Applies the remedy for a message too big to read to the next connection.
    pub(crate) fn apply(&mut self, remedy: Remedy) {
        match (self, remedy) {
            (Loop::V4(l), Remedy::Raise(size)) => {
                l.mqtt_options
                    .set_max_packet_size(size.max(MAX_INCOMING_PACKET_SIZE), MAX_PACKET_SIZE);
            }
            (Loop::V4(l), Remedy::Clean) => {
                l.mqtt_options.set_clean_session(true);
            }
            (Loop::V5(l), Remedy::Raise(size)) => {
                l.options
                    .set_max_packet_size(Some(incoming_limit(size.max(MAX_INCOMING_PACKET_SIZE))));
            }
            (Loop::V5(l), Remedy::Clean) => {
                l.options.set_clean_start(true);
            }
        }
    }

    /// Discards everything of the dead connection (the publisher resends batches itself).
    pub(crate) fn discard(&mut self) {
        match self {
            Loop::V4(l) => {
                // `clean` moves whatever reached the channel after the failure into `pending`.
                l.clean();
                l.pending.clear();
                l.state.events.clear();
                l.state.collision = None;
            }
            Loop::V5(l) => {
                l.clean();
                l.pending.clear();
                l.state.events.clear();
                l.state.collision = None;
            }
        }
    }
}

/// A v5 event as a 3.1.1 one (or a refusal).
fn map_event(ev: v5::Event) -> Polled {
    use v5::mqttbytes::v5::Packet as P;
    let incoming = match ev {
        v5::Event::Outgoing(o) => return Polled::Event(Event::Outgoing(o)),
        v5::Event::Incoming(p) => p,
    };
    let mapped = match incoming {
        P::ConnAck(a) => {
            return Polled::Connected {
                event: Event::Incoming(Incoming::ConnAck(ConnAck {
                    session_present: a.session_present,
                    code: ConnectReturnCode::Success,
                })),
                max_packet: a.properties.and_then(|p| p.max_packet_size),
            }
        }
        P::PubAck(a) => match rejection(a.reason) {
            Some(reason) => {
                return Polled::Rejected {
                    pkid: a.pkid,
                    reason,
                }
            }
            None => Incoming::PubAck(PubAck::new(a.pkid)),
        },
        P::PubComp(c) => Incoming::PubComp(PubComp::new(c.pkid)),
        P::SubAck(a) => Incoming::SubAck(SubAck::new(
            a.pkid,
            a.return_codes
                .into_iter()
                .map(|c| match c {
                    V5Code::Success(q) => SubscribeReasonCode::Success(v4_qos(q)),
                    _ => SubscribeReasonCode::Failure,
                })
                .collect(),
        )),
        P::Publish(p) => {
            let mut m =
                rumqttc::Publish::new(String::from_utf8_lossy(&p.topic), v4_qos(p.qos), p.payload);
            m.pkid = p.pkid;
            m.retain = p.retain;
            m.dup = p.dup;
            if let Some(topic) = p.properties.as_ref().and_then(|x| x.response_topic.clone()) {
                let correlation = p
                    .properties
                    .and_then(|x| x.correlation_data)
                    .map(|d| d.to_vec());
                return Polled::Request {
                    publish: m,
                    topic,
                    correlation,
                };
            }
            Incoming::Publish(m)
        }
        P::PingResp(_) => Incoming::PingResp,
        // The rest carries nothing the state machines use.
        other => return Polled::Event(Event::Incoming(other_packet(&other))),
    };
    Polled::Event(Event::Incoming(mapped))
}

/// A packet the state machines ignore, as a 3.1.1 packet they ignore too.
fn other_packet(_: &Packet) -> Incoming {
    Incoming::PingResp
}

/// A v5 connection error as the 3.1.1 one that means the same (failure kinds, oversize).
fn map_error(e: v5::ConnectionError) -> ConnectionError {
    use v5::mqttbytes::v5::ConnectReturnCode as C;
    match e {
        v5::ConnectionError::Tls(t) => ConnectionError::Tls(t),
        v5::ConnectionError::Io(io) => ConnectionError::Io(io),
        v5::ConnectionError::ConnectionRefused(C::BadUserNamePassword)
        | v5::ConnectionError::MqttState(v5::StateError::ConnFail {
            reason: C::BadUserNamePassword,
        }) => ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword),
        v5::ConnectionError::ConnectionRefused(C::NotAuthorized)
        | v5::ConnectionError::MqttState(v5::StateError::ConnFail {
            reason: C::NotAuthorized,
        }) => ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized),
        v5::ConnectionError::MqttState(v5::StateError::IncomingPacketTooLarge {
            pkt_size, ..
        }) => ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::Error::PayloadSizeLimitExceeded(pkt_size),
        )),
        v5::ConnectionError::MqttState(v5::StateError::Io(io)) => {
            ConnectionError::MqttState(StateError::Io(io))
        }
        other => ConnectionError::Io(io::Error::other(other.to_string())),
    }
}

#[cfg(test)]
#[path = "adapter_tests.rs"]
mod tests;
