//! The channels between the publisher and the remote-config controller: messages from the
//! `config/set` topics go one way, retained config, results and connection changes the other,
//! and the state of the connection is watched.

use tokio::sync::{mpsc, watch};

use crate::config::{MqttConfig, SpoolConfig, StatsConfig};
use crate::wire::Description;

/// `config/set` messages buffered for the controller; beyond this the publisher holds them,
/// unacknowledged (the broker keeps them until they are processed).
const INBOUND_CAPACITY: usize = 16;
/// Commands buffered for the publisher.
const COMMAND_CAPACITY: usize = 16;

/// What the controller asks the publisher to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The retained `config` payload: published now and at every connect.
    SetConfig(String),
    /// A `config/result` payload, published once (not retained).
    Result(String),
    /// MQTT 5: the same result, also published to the request's Response Topic.
    Response(String, Reply),
    /// Reconnect with these settings (host, port, credentials, keep-alive, prefix, QoS).
    Reconnect(MqttConfig),
    /// Take QoS (for the next batches) and reconnect delays (from the next failure) without
    /// reconnecting.
    Tune(MqttConfig),
    /// Reopen the spool with these settings.
    Spool(SpoolConfig),
    /// Publish the stats at this interval from now on (the current interval ends now + the new
    /// interval).
    Stats(StatsConfig),
    /// The device as it is now (after a config change): republish `info` and the Home
    /// Assistant discovery configs that changed, clear those that went.
    Describe(Box<Description>),
    /// The controller is done with a message: acknowledge it to the broker (if it came on the
    /// connection still up; else the broker delivers it again anyway).
    Done(Ack),
}

/// What acknowledges one received message: the connection it came on and its packet id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The publisher's count of CONNACKs when it arrived.
    pub connection: u64,
    /// Its packet id.
    pub pkid: u16,
    /// Its QoS (1 or 2; QoS 0 needs no acknowledgement).
    pub qos: rumqttc::QoS,
}

/// One message received on a `config/set` topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The topic it came on.
    pub topic: String,
    /// Its payload, unchecked.
    pub payload: Vec<u8>,
    /// The retain flag of the delivery (a stored message sent on subscribe).
    pub retained: bool,
    /// Whether it came on a group topic (not the device's own `config/set`).
    pub group: bool,
    /// Send back in [`Command::Done`] once handled; `None` at QoS 0.
    pub ack: Option<Ack>,
    /// MQTT 5 request/response: where the sender wants the result too (validated).
    pub reply: Option<Reply>,
}

/// An MQTT 5 request's Response Topic (checked: a plain bounded publish topic) and its
/// Correlation Data, echoed with the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The Response Topic.
    pub topic: String,
    /// The Correlation Data, as sent.
    pub correlation: Option<Vec<u8>>,
}

/// The connection as the controller sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Incremented by every [`Command::Reconnect`] the publisher has taken.
    pub generation: u64,
    /// Whether the broker has accepted the connection of this generation.
    pub connected: bool,
    /// Whether the current connection proved itself (every subscription granted, the probe
    /// back) or why not; `None` while the proof runs.
    pub proof: Option<Result<(), String>>,
}

/// The publisher's end.
#[derive(Debug)]
pub struct ControlLink {
    /// Taken by the publisher's loop when it starts.
    pub(crate) commands: Option<mpsc::Receiver<Command>>,
    pub(crate) inbound: mpsc::Sender<Inbound>,
    pub(crate) link: watch::Sender<LinkState>,
    pub(crate) groups: Vec<String>,
}

/// The controller's end.
#[derive(Debug)]
pub struct ControlHandle {
    /// Commands to the publisher.
    pub commands: mpsc::Sender<Command>,
    /// Messages from the `config/set` topics.
    pub inbound: mpsc::Receiver<Inbound>,
    /// The connection state.
    pub link: watch::Receiver<LinkState>,
}

/// A connected pair; the publisher subscribes to the device topic and the topics of `groups`.
pub fn control_channel(groups: Vec<String>) -> (ControlLink, ControlHandle) {
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (in_tx, in_rx) = mpsc::channel(INBOUND_CAPACITY);
    let (link_tx, link_rx) = watch::channel(LinkState::default());
    (
        ControlLink {
            commands: Some(cmd_rx),
            inbound: in_tx,
            link: link_tx,
            groups,
        },
        ControlHandle {
            commands: cmd_tx,
            inbound: in_rx,
            link: link_rx,
        },
    )
}
