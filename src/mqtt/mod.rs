//! The only place that talks MQTT: the publisher, its payloads, and the embedded broker.
//!
//! * [`topics`]: topic names of a device (`<prefix>/<id>/status`, `…/edges`, `…/gpio/<pin>`).
//! * [`payload`]: the JSON of an edge batch (allocation-free encoder, serde decoder).
//! * [`backoff`]: reconnect delays with jitter.
//! * [`options`]: rumqttc connection options (will, packet size, credentials).
//! * [`publisher`]: queue → broker, with LWT, retained state, reconnects and clean shutdown.
//! * [`broker`]: an in-process rumqttd for demos and tests.

pub mod backoff;
pub mod broker;
mod driver;
mod error;
pub mod options;
pub mod payload;
pub mod publisher;
pub mod topics;
mod tracker;

pub use backoff::Backoff;
pub use broker::EmbeddedBroker;
pub use error::MqttError;
pub use options::mqtt_options;
pub use payload::{decode_batch, encode_batch, BatchPayload};
pub use publisher::{run, run_with_drain_timeout};
pub use topics::Topics;
