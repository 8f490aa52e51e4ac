//! What edgetap says on the broker: topic names and the payloads published on them, as pure
//! functions of the data (no client, no I/O, no clock). The link (`mqtt`) and the
//! broker-side state (`presence`) both build on it, and consumers and tests decode with
//! it; it depends on nothing above the data it encodes. The topic and payload contract is
//! described in `docs/architecture.md`.
//!
//! * [`topics`]: topic names of a device (`<prefix>/<id>/status`, `…/edges`, `…/gpio/<pin>`).
//! * [`status`]: the `online` / `offline` status payloads.
//! * [`payload`]: the JSON of an edge batch (allocation-free encoder, serde decoder), in
//!   [`columnar`] form when `batch.format` asks for it.
//! * [`health`]: the JSON of the periodic `stats` message.
//! * [`device`]: what the agent says about itself (the retained `info` payload).
//! * [`discovery`]: Home Assistant MQTT discovery payloads.
//! * [`meter`]: the JSON of `gpio/<pin>/meter` and `gpio/<pin>/watchdog`.

mod batch_json;
pub mod columnar;
pub mod device;
pub mod discovery;
pub mod health;
pub mod meter;
pub mod payload;
pub mod status;
pub mod topics;

pub use device::{Description, DeviceInfo, Inventory};
pub use health::{stats_json, StatsReport, STATS_KEYS};
pub use payload::{decode_batch, encode_batch, BatchPayload};
pub use status::{OFFLINE, ONLINE};
pub use topics::Topics;
