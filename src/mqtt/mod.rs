//! The link to the broker: the only place that talks MQTT. The publisher is a state machine
//! that decides (`publisher`, with the parts that offer publishes: `traffic`, `batches` and
//! `spooling`, `reporting`, and the announcer of `presence`; `pump` owns their priority order,
//! `closing` the steps of a clean close) inside a thin IO shell (`shell`) that owns the rumqttc
//! client and event loop (`driver`), after rumqttc's own `MqttState` inside `EventLoop`. What
//! is said is in `wire`; what the device owns on the broker and remembers in `state_dir` is in
//! `presence`. The design is described in `docs/architecture.md`.
//!
//! * [`publishing`]: the publisher task as the agent starts it ([`Publishing`]).
//! * [`control`]: the channels to the remote-config controller (`config/set` in, retained
//!   `config` and results out, reconnects with new settings).
//! * [`options`]: rumqttc connection options (will, packet size, credentials, TLS), with
//!   [`tls`]: the rustls client configuration.
//! * [`backoff`]: reconnect delays with jitter.
//! * [`session`], [`tracker`], [`latency`]: the connection over drops, what the broker has
//!   accepted, and how long it took.
//! * [`broker`]: an in-process rumqttd for demos and tests.

mod adapter;
pub mod backoff;
mod batches;
pub mod broker;
mod client;
mod closing;
pub mod control;
mod driver;
mod error;
mod failure;
mod inbox;
mod latency;
mod message;
mod metering;
pub mod options;
mod oversize;
mod proof;
mod publisher;
pub mod publishing;
mod pump;
mod reasons;
mod reporting;
mod session;
mod shell;
mod spooling;
#[cfg(test)]
mod testing;
pub mod tls;
mod tracker;
mod traffic;

pub use backoff::Backoff;
pub use broker::EmbeddedBroker;
pub use control::{
    control_channel, Ack, Command, ControlHandle, ControlLink, Inbound, LinkState, Reply,
};
pub use error::MqttError;
pub use options::mqtt_options;
pub use publishing::{run, Publishing};
pub use shell::{DRAIN_TIMEOUT, EDGE_WINDOW, SPOOL_DIR};
