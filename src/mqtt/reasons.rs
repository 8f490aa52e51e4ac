//! What an MQTT 5 broker says in its acknowledgements, in edgetap's terms: which publishes it
//! refused and why (counted by reason in `stats`, logged at a bounded rate), and which v5
//! Response Topic a `config/result` may be published to. Pure.

use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::v5::PubAckReason;

use crate::stats::REJECTION_REASONS;

/// Longest Response Topic answered (bytes): a result goes to a topic the sender chose, so it
/// stays within the bound of the agent's own topics.
pub const MAX_RESPONSE_TOPIC_BYTES: usize = 512;
/// One log line per reason per this period; the rest are counted and summed in the next line.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// A reason a broker refused a publish with: an index into [`REJECTION_REASONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejection(pub(crate) usize);

impl Rejection {
    /// The reason's key in `stats`.
    pub(crate) fn name(self) -> &'static str {
        REJECTION_REASONS[self.0]
    }
}

/// The rejection a PUBACK reason stands for; `None` when the broker accepted the publish
/// (0x10 "no matching subscribers" is an acceptance: the broker took it).
pub(crate) fn rejection(reason: PubAckReason) -> Option<Rejection> {
    let key = match reason {
        PubAckReason::Success | PubAckReason::NoMatchingSubscribers => return None,
        PubAckReason::NotAuthorized => "not_authorized",
        PubAckReason::QuotaExceeded => "quota_exceeded",
        PubAckReason::TopicNameInvalid => "topic_name_invalid",
        PubAckReason::PayloadFormatInvalid => "payload_format_invalid",
        // rumqttc 0.25 has no variant for 0x95 (packet too large): it decodes it as an error,
        // so 0x95 arrives as a dropped connection, not here. Unspecified (0x80),
        // implementation specific (0x83), packet id in use (0x91).
        PubAckReason::UnspecifiedError
        | PubAckReason::ImplementationSpecificError
        | PubAckReason::PacketIdentifierInUse => "other",
    };
    REJECTION_REASONS
        .iter()
        .position(|k| *k == key)
        .map(Rejection)
}

/// Rate-limits the log lines of refused publishes: one per reason per [`LOG_EVERY`].
#[derive(Debug, Default)]
pub(crate) struct RejectLog {
    /// Per reason: when it was last logged and how many were refused since.
    last: [Option<(Instant, u64)>; REJECTION_REASONS.len()],
}

impl RejectLog {
    /// A refusal for `r` at `now`: `Some(n)` when it is to be logged, `n` being how many
    /// refusals for `r` were not logged before it.
    pub(crate) fn refused(&mut self, r: Rejection, now: Instant) -> Option<u64> {
        let slot = &mut self.last[r.0];
        match slot {
            Some((at, quiet)) if now.saturating_duration_since(*at) < LOG_EVERY => {
                *quiet += 1;
                None
            }
            _ => {
                let quiet = slot.map_or(0, |(_, q)| q);
                *slot = Some((now, 0));
                Some(quiet)
            }
        }
    }
}

/// The size in bytes of the MQTT 5 PUBLISH packet rumqttc writes for a `topic_len`-byte topic
/// and a `payload_len`-byte payload (with a packet id when `with_pkid`, QoS 1 or 2, and a
/// Correlation Data property of `correlation_len` bytes when given): what a broker's CONNACK
/// Maximum Packet Size bounds. rumqttc refuses a bigger one with a connection error, so the
/// publisher checks first (the same sum as rumqttc's `Publish::size`).
pub(crate) fn publish_packet_size(
    topic_len: usize,
    payload_len: usize,
    with_pkid: bool,
    correlation_len: Option<usize>,
) -> usize {
    let properties = correlation_len.map_or(0, |c| 1 + 2 + c);
    let remaining = 2
        + topic_len
        + if with_pkid { 2 } else { 0 }
        + varint_len(properties)
        + properties
        + payload_len;
    1 + varint_len(remaining) + remaining
}

/// Bytes of MQTT's variable byte integer for `n`.
fn varint_len(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// The rejection counted for a publish larger than the broker's Maximum Packet Size.
pub(crate) fn packet_too_large() -> Rejection {
    Rejection(
        REJECTION_REASONS
            .iter()
            .position(|k| *k == "packet_too_large")
            .unwrap_or(REJECTION_REASONS.len() - 1),
    )
}

/// Why a v5 Response Topic is not answered to (the result then goes to the usual
/// `config/result` topic): it must be a topic one may publish to, within a bound.
pub(crate) fn response_topic_problem(topic: &str) -> Option<&'static str> {
    if topic.is_empty() {
        Some("is empty")
    } else if topic.len() > MAX_RESPONSE_TOPIC_BYTES {
        Some("is longer than 512 bytes")
    } else if topic.contains(['+', '#']) {
        Some("has a wildcard")
    } else if topic.starts_with('$') {
        Some("starts with `$` (broker topics)")
    } else if topic.chars().any(char::is_control) {
        Some("has a control character")
    } else {
        None
    }
}

#[cfg(test)]
#[path = "reasons_tests.rs"]
mod tests;
