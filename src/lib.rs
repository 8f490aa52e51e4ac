//! edgetap: sample GPIO levels, turn them into timestamped edges, filter and batch them, and
//! publish them to MQTT.
//!
//! Data flows one way: [`sampler`] → [`edges::decode`] → [`edges::filter`] → [`edges::batch`] →
//! [`mqtt`]. The middle is pure code; hardware sits behind the sampler, MQTT behind the publisher.
//! A source that delivers edges rather than samples joins after the decoder, at
//! [`edges::EdgeChunk`] ([`pipeline::Filtering`]).
//!
//! The modules form layers; each imports only from layers below it (lowest first):
//!
//! 1. leaves: [`block`] (the data a sampler hands on), [`shutdown`], [`procstat`], [`stats`],
//!    [`spool`], [`random`], [`liveness`] (the watchdog's decisions), [`privilege`] (giving up
//!    root and capabilities after set-up);
//! 2. [`edges`] (edges, decoder, filters, batcher), then [`vcd`], then [`signal`];
//! 3. [`hw`] (registers, control blocks, boards: the only `unsafe`), then [`emu`] (the emulated
//!    board), then [`sampler`];
//! 4. [`config`]: the layers below own their setting types; config gathers them into sections,
//!    validates them and classifies a change;
//! 5. [`pipeline`] and [`queue`], which take their settings from the config, and [`wire`]
//!    (topic names and payloads, pure);
//! 6. [`presence`]: what the device owns on the broker and remembers in `state_dir`;
//! 7. [`capture`] and [`mqtt`] (the link to the broker);
//! 8. [`agent`], which runs them all.
//!
//! See `docs/architecture.md` for the threads and invariants.

// `unsafe` only where memory is mapped and hardware touched: `hw`, each block with a `// SAFETY:`
// line. The emulator needs none: it reaches its memory file through `hw::mmio`.
#![deny(unsafe_code)]

pub mod agent;
pub mod block;
pub mod capture;
pub mod config;
pub mod edges;
pub mod emu;
#[allow(unsafe_code)]
pub mod hw;
pub mod liveness;
pub mod mqtt;
pub mod pipeline;
pub mod presence;
#[allow(unsafe_code)]
pub mod privilege;
pub mod procstat;
pub mod queue;
pub mod random;
pub mod sampler;
pub mod shutdown;
pub mod signal;
pub mod spool;
pub mod stats;
pub mod vcd;
pub mod wire;
