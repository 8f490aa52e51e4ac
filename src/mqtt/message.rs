//! One publish the publisher's state machine decided on, with where it came from: the shell
//! hands topic, payload, QoS and retain flag to the client and gives the [`Origin`] back to say
//! whether the client took it (`Publisher::sent`) or not (`Publisher::refused`).

use rumqttc::QoS;

use crate::edges::batch::Batch;
use crate::presence::Announcement;
use crate::spool::RecordId;

/// A publish to hand to the client.
#[derive(Debug)]
pub(crate) struct Message {
    /// Topic to publish on.
    pub topic: String,
    /// The payload, encoded.
    pub payload: Vec<u8>,
    /// QoS of the publish.
    pub qos: QoS,
    /// Whether the broker keeps it for later subscribers.
    pub retain: bool,
    /// Which part offered it.
    pub origin: Origin,
}

/// Which part offered a [`Message`], and what it needs back to take its decision further.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Origin {
    /// A status payload (`online` or `offline`).
    Status(&'static str),
    /// The retained `config` payload.
    Config,
    /// `info` or a Home Assistant discovery config.
    Announce(Announcement),
    /// The oldest `config/result` payload.
    Result,
    /// The oldest MQTT 5 response, with the request's Correlation Data (if any).
    Response(Option<Vec<u8>>),
    /// The clear (empty retained payload) of a topic of ours no longer used.
    Cleared(String),
    /// The due stats report.
    Stats,
    /// The probe that proves a connection (see `proof`).
    Probe,
    /// A batch replayed from the spool.
    Spooled(RecordId),
    /// A live batch; `order` is its submission rank.
    Live {
        /// Submission rank, used to resend in order.
        order: u64,
        /// The batch, to resend or spool if the broker does not acknowledge it.
        batch: Batch,
    },
    /// The latest reading of the meter of `pin` (retained).
    Meter(u8),
    /// The oldest watchdog event.
    Watchdog,
    /// The level of a pin on its retained `gpio` topic.
    Gpio {
        /// BCM GPIO number.
        pin: u8,
        /// 0 or 1.
        level: u8,
    },
}
