//! What the device owns on the broker and remembers in `state_dir`: the retained topics it has
//! published (to clear what the config in force no longer uses, after a live change or a
//! restart), the `info` and Home Assistant discovery it announces, and the subscriptions of its
//! persistent session. Pure decisions plus small record files; no MQTT client: the link
//! (`mqtt`) asks what to publish or subscribe and tells what went out. Built on `wire` for
//! topic names and payloads.
//!
//! * [`retained`]: the retained messages we own as a state machine (publish, clear, record).
//! * [`announce`]: `info` and the discovery configs, recorded in `ha-discovery.json`.
//! * [`held`]: the retained device topics we may hold, recorded in `retained.json`.
//! * [`subscriptions`]: the session's subscriptions, recorded in `mqtt-session.json`.
//! * [`record`]: how those records are read and written.

pub mod announce;
pub mod held;
pub mod record;
pub mod retained;
pub mod subscriptions;
pub mod totals;

pub use announce::{Announcement, Announcer, DISCOVERY_FILE};
pub use held::{HeldTopics, HELD_FILE};
pub use subscriptions::{Resubscribe, SessionRecord, SESSION_FILE};
pub use totals::{load_totals, save_totals, TOTALS_FILE};
