//! edgetap: sample GPIO levels, turn them into timestamped edges, filter and batch them, and
//! publish them to MQTT.
//!
//! Data flows one way: [`sampler`] → [`edges::decode`] → [`edges::filter`] → [`edges::batch`] →
//! [`mqtt`]. The middle is pure code; hardware sits behind the sampler, MQTT behind the publisher.

pub mod agent;
pub mod block;
pub mod capture;
pub mod config;
pub mod edges;
pub mod emu;
pub mod hw;
pub mod mqtt;
pub mod pipeline;
pub mod procstat;
pub mod queue;
pub mod sampler;
pub mod shutdown;
pub mod signal;
pub mod spool;
pub mod stats;
pub mod vcd;
