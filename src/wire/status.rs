//! The payloads of `<prefix>/<id>/status` (retained): what the agent says while connected, and
//! what its last will and a clean shutdown say. Home Assistant's availability uses the same two
//! words, so both live here once.

/// Status payload while the agent is connected.
pub const ONLINE: &str = "online";
/// Status payload of the last will and of a clean shutdown.
pub const OFFLINE: &str = "offline";
