//! The only place that talks MQTT: the publisher, its payloads, and the embedded broker.
//!
//! * [`topics`]: topic names of a device (`<prefix>/<id>/status`, `…/edges`, `…/gpio/<pin>`).
//! * [`payload`]: the JSON of an edge batch (allocation-free encoder, serde decoder).
//! * [`backoff`]: reconnect delays with jitter.
//! * [`options`]: rumqttc connection options (will, packet size, credentials).
//! * [`publisher`]: queue → broker, with LWT, retained state, reconnects and clean shutdown.
//! * [`control`]: the channels to the remote-config controller (`config/set` in, retained
//!   `config` and results out, reconnects with new settings).
//! * [`device`]: what the agent says about itself (the retained `info` payload).
//! * [`discovery`]: Home Assistant MQTT discovery payloads.
//! * [`broker`]: an in-process rumqttd for demos and tests.
//! * [`health`]: the JSON of the periodic `stats` message.

mod announce;
pub mod backoff;
pub mod broker;
mod closing;
pub mod control;
pub mod device;
pub mod discovery;
mod driver;
mod error;
pub mod health;
mod held;
mod latency;
pub mod options;
pub mod payload;
pub mod publisher;
mod pump;
mod reporting;
mod retained;
mod session;
mod spooling;
mod subscriptions;
pub mod topics;
mod tracker;

pub use backoff::Backoff;
pub use broker::EmbeddedBroker;
pub use control::{control_channel, Command, ControlHandle, ControlLink, Inbound, LinkState};
pub use device::{Description, DeviceInfo, Inventory};
pub use error::MqttError;
pub use health::{stats_json, StatsReport, STATS_KEYS};
pub use options::mqtt_options;
pub use payload::{decode_batch, encode_batch, BatchPayload};
pub use publisher::{run, Publishing};
pub use topics::Topics;
