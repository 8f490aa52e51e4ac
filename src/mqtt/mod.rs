//! The only place that talks MQTT: the publisher and the embedded broker. What is said on the
//! broker is in [`crate::wire`].
//!
//! * [`backoff`]: reconnect delays with jitter.
//! * [`options`]: rumqttc connection options (will, packet size, credentials).
//! * [`publisher`]: queue → broker, with LWT, retained state, reconnects and clean shutdown.
//! * [`control`]: the channels to the remote-config controller (`config/set` in, retained
//!   `config` and results out, reconnects with new settings).
//! * [`broker`]: an in-process rumqttd for demos and tests.

mod announce;
pub mod backoff;
pub mod broker;
mod closing;
pub mod control;
mod driver;
mod error;
mod held;
mod latency;
pub mod options;
pub mod publisher;
mod pump;
mod reporting;
mod retained;
mod session;
mod spooling;
mod subscriptions;
mod tracker;

pub use backoff::Backoff;
pub use broker::EmbeddedBroker;
pub use control::{control_channel, Command, ControlHandle, ControlLink, Inbound, LinkState};
pub use error::MqttError;
pub use options::mqtt_options;
pub use publisher::{run, Publishing};
