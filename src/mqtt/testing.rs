//! Helpers of the link's unit tests: a [`Publisher`] driven by hand, as the shell drives it,
//! with a pretend client that takes every publish and a pretend broker that numbers and
//! acknowledges them. No network, no clock: every call is given its time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{ConnAck, ConnectReturnCode, ConnectionError, Event, Incoming, PubAck, QoS};

use super::message::Origin;
use super::publisher::Publisher;
use crate::edges::batch::Batch;
use crate::stats::Stats;
use crate::wire::{decode_batch, Topics};

/// A publish the pretend client took.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
    pub origin: Origin,
}

impl Sent {
    /// The `seq` of the edge batch in the payload.
    pub(crate) fn seq(&self) -> u64 {
        decode_batch(&self.payload).expect("an edge batch").seq
    }

    /// A short name of what was published, for order assertions.
    pub(crate) fn kind(&self) -> String {
        match &self.origin {
            Origin::Status(s) => format!("status:{s}"),
            Origin::Config => "config".into(),
            Origin::Announce(_) => "announce".into(),
            Origin::Result => "result".into(),
            Origin::Response(_) => "response".into(),
            Origin::Cleared(t) => format!("clear:{t}"),
            Origin::Stats => "stats".into(),
            Origin::Probe => "probe".into(),
            Origin::Spooled(_) => format!("spooled:{}", self.seq()),
            Origin::Live { batch, .. } => format!("live:{}", batch.seq),
            Origin::Gpio { pin, level } => format!("gpio:{pin}={level}"),
            Origin::Meter(pin) => format!("meter:{pin}"),
            Origin::Watchdog => "watchdog".into(),
        }
    }
}

/// Batch `seq` of run 1.
pub(crate) fn batch(seq: u64) -> Batch {
    Batch {
        run: 1,
        seq,
        ..Batch::default()
    }
}

/// A publisher of `pi-01` under `edgetap`, QoS 1, not connected, keeping nothing on disk.
pub(crate) fn publisher(t0: Instant) -> (Publisher, Arc<Stats>) {
    let stats = Arc::new(Stats::default());
    let topics = Topics::new("edgetap", "pi-01");
    let p = Publisher::new(
        topics,
        QoS::AtLeastOnce,
        stats.clone(),
        "broker:1883".into(),
        t0,
    );
    (p, stats)
}

/// The broker accepts the connection (`resumed`: it kept the session).
pub(crate) fn connack(p: &mut Publisher, resumed: bool, now: Instant) {
    p.handle(
        Event::Incoming(Incoming::ConnAck(ConnAck {
            session_present: resumed,
            code: ConnectReturnCode::Success,
        })),
        now,
    );
}

/// The connection drops.
pub(crate) fn drop_connection(p: &mut Publisher, now: Instant) {
    let error = ConnectionError::Io(std::io::Error::other("connection reset"));
    p.lost(&error, Duration::from_millis(10), now);
}

/// Hands everything due to the pretend client, as the shell's flush does.
pub(crate) fn drain(p: &mut Publisher, now: Instant) -> Vec<Sent> {
    let mut out = Vec::new();
    while let Some(m) = p.next_message(now) {
        out.push(Sent {
            topic: m.topic,
            payload: m.payload,
            retain: m.retain,
            origin: m.origin.clone(),
        });
        p.sent(m.origin, now);
    }
    out
}

/// rumqttc writes the next publishes with `pkids` (QoS 1).
pub(crate) fn written(p: &mut Publisher, pkids: impl IntoIterator<Item = u16>, now: Instant) {
    for pkid in pkids {
        p.handle(Event::Outgoing(rumqttc::Outgoing::Publish(pkid)), now);
    }
}

/// The broker acknowledges `pkids`.
pub(crate) fn acked(p: &mut Publisher, pkids: impl IntoIterator<Item = u16>, now: Instant) {
    for pkid in pkids {
        p.handle(Event::Incoming(Incoming::PubAck(PubAck::new(pkid))), now);
    }
}

/// rumqttc writes all of `sent` (pkids from `first`) and the broker acknowledges them all.
pub(crate) fn deliver(p: &mut Publisher, sent: &[Sent], first: u16, now: Instant) -> u16 {
    let end = first + sent.len() as u16;
    written(p, first..end, now);
    acked(p, first..end, now);
    end
}

/// The broker grants (or refuses) the SUBSCRIBE written with `pkid`.
pub(crate) fn suback(p: &mut Publisher, pkid: u16, codes: &[bool], now: Instant) {
    use rumqttc::{SubAck, SubscribeReasonCode};
    p.handle(Event::Outgoing(rumqttc::Outgoing::Subscribe(pkid)), now);
    let return_codes = codes
        .iter()
        .map(|ok| match ok {
            true => SubscribeReasonCode::Success(QoS::AtLeastOnce),
            false => SubscribeReasonCode::Failure,
        })
        .collect();
    p.handle(
        Event::Incoming(Incoming::SubAck(SubAck { pkid, return_codes })),
        now,
    );
}

/// The broker delivers `payload` on `topic` to the device.
pub(crate) fn deliver_in(p: &mut Publisher, topic: &str, payload: &[u8], now: Instant) {
    let msg = rumqttc::Publish::new(topic, QoS::AtLeastOnce, payload.to_vec());
    p.handle(Event::Incoming(Incoming::Publish(msg)), now);
}

/// The connection after a switch proves itself: its subscriptions granted (SUBSCRIBE `pkid`),
/// the probe published and delivered back.
pub(crate) fn prove(p: &mut Publisher, pkid: u16, now: Instant) {
    let r = p.next_request().expect("the subscriptions of the connect");
    suback(p, pkid, &vec![true; r.subscribe.len()], now);
    let probe = drain(p, now);
    assert_eq!(probe.len(), 1, "only the probe");
    let topic = probe[0].topic.clone();
    deliver_in(p, &topic, &probe[0].payload, now);
}
