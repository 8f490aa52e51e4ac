//! A message too big to read breaks the connection in rumqttc (`payload size limit exceeded`)
//! before anything of it is read, and a persistent session redelivers it after every CONNACK:
//! one oversized `config/set`, from anyone who may write a group topic, would cut the device off
//! for good. MQTT 3.1.1 has no way to tell the broker a size limit, so the agent reads such a
//! message on the next connection (a limit raised to its size, up to [`READ_CAP`]) and refuses
//! it like any oversized patch (answered on `config/result`, counted, acknowledged). A message
//! beyond the cap is not read: the next connection starts a clean session, which makes the
//! broker drop it (and whatever else was queued: logged and counted).
//!
//! Pure: the driver applies the [`Remedy`] to the options of the next connection.

use rumqttc::{ConnectionError, StateError};

/// The most the incoming packet limit is raised to, to read and discard one oversized message.
pub const READ_CAP: usize = 32 << 20;

/// What the next connection does about a message that was too big to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Remedy {
    /// Read packets up to this size on the next connection (then the usual limit again).
    Raise(usize),
    /// Too big to read: start a clean session, so the broker drops it.
    Clean,
}

/// The size of the packet that broke the connection, when that is what `error` says.
pub(crate) fn oversize(error: &ConnectionError) -> Option<usize> {
    match error {
        ConnectionError::MqttState(StateError::Deserialization(
            rumqttc::Error::PayloadSizeLimitExceeded(size),
        )) => Some(*size),
        _ => None,
    }
}

/// The remedy for a message of `size` bytes (its remaining length).
pub(crate) fn remedy(size: usize) -> Remedy {
    if size <= READ_CAP {
        Remedy::Raise(size)
    } else {
        Remedy::Clean
    }
}

#[cfg(test)]
#[path = "oversize_tests.rs"]
mod tests;
