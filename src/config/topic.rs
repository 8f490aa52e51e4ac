//! The rules for the topic prefixes of the config (`mqtt.topic_prefix`, `homeassistant.prefix`):
//! every topic the agent builds is `<prefix>/<id or group>/<fixed levels>`, ids and groups are
//! 1-64 characters of `[A-Za-z0-9_-]`, so a prefix that passes here gives topics that are valid
//! MQTT publish and subscribe names, well below MQTT's 65,535-byte limit (rumqttc writes the
//! length as a u16 and would wrap it: a longer topic lands on another, shorter one).

/// Longest prefix accepted (bytes of UTF-8): far above any real prefix, far below MQTT's limit.
pub const MAX_PREFIX_BYTES: usize = 256;

/// Why `p` cannot be a topic prefix, or `None` if it can.
///
/// Refused: empty; over [`MAX_PREFIX_BYTES`]; a wildcard (`+`, `#`), NUL or another control
/// character (MQTT 4.7.3 and 1.5.3); a level starting with `$` (MQTT 4.7.2: `$` topics are
/// the broker's, e.g. `$SYS`, which mosquitto acknowledges and discards); an empty level
/// (a leading, trailing or doubled `/`).
pub(super) fn prefix_problem(p: &str) -> Option<String> {
    if p.is_empty() {
        return Some("must not be empty".into());
    }
    if p.len() > MAX_PREFIX_BYTES {
        return Some(format!(
            "is {} bytes; at most {MAX_PREFIX_BYTES} are allowed",
            p.len()
        ));
    }
    if let Some(c) = p.chars().find(|c| matches!(c, '+' | '#') || c.is_control()) {
        return Some(format!(
            "`{}` must not contain the wildcard or control character {c:?}",
            p.escape_debug()
        ));
    }
    if p.split('/').any(|level| level.starts_with('$')) {
        return Some(format!(
            "`{p}`: a level starting with `$` is reserved for the broker (e.g. `$SYS`), which \
             discards what clients publish there"
        ));
    }
    if p.split('/').any(str::is_empty) {
        return Some(format!(
            "`{p}` must not have an empty level (a leading, trailing or doubled `/`)"
        ));
    }
    None
}

#[cfg(test)]
#[path = "topic_tests.rs"]
mod tests;
