//! Topic names of one device: `<prefix>/<id>/status`, `<prefix>/<id>/edges`,
//! `<prefix>/<id>/gpio/<pin>`, … (the topic table is in `docs/architecture.md`).

/// MQTT's limit on a topic name (bytes of UTF-8; its length is a u16 on the wire).
pub const MAX_TOPIC_BYTES: usize = 65_535;

/// Why `topic` cannot be a name the agent publishes to (or subscribes to exactly), or `None`:
/// empty, over [`MAX_TOPIC_BYTES`], a wildcard (`+`, `#`), NUL or another control character.
pub fn topic_name_problem(topic: &str) -> Option<&'static str> {
    if topic.is_empty() {
        Some("empty")
    } else if topic.len() > MAX_TOPIC_BYTES {
        Some("longer than MQTT's 65,535 bytes")
    } else if topic.contains(['+', '#']) {
        Some("a wildcard (`+` or `#`), which would match topics of others")
    } else if topic.chars().any(char::is_control) {
        Some("a NUL or control character")
    } else {
        None
    }
}

/// Builds the topics of one device under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// First topic level, e.g. `edgetap`.
    pub prefix: String,
    /// Device id, already validated to `[A-Za-z0-9_-]` by the config.
    pub device: String,
}

impl Topics {
    /// Topics of `device` under `prefix`.
    pub fn new(prefix: impl Into<String>, device: impl Into<String>) -> Self {
        Topics {
            prefix: prefix.into(),
            device: device.into(),
        }
    }

    fn sub(&self, leaf: &str) -> String {
        format!("{}/{}/{}", self.prefix, self.device, leaf)
    }

    /// `<prefix>/<id>/status`: retained `online` / `offline` (also the last will).
    pub fn status(&self) -> String {
        self.sub("status")
    }

    /// `<prefix>/<id>/edges`: JSON edge batches, not retained.
    pub fn edges(&self) -> String {
        self.sub("edges")
    }

    /// `<prefix>/<id>/gpio/<pin>`: retained `ON` / `OFF` current level.
    pub fn gpio(&self, pin: u8) -> String {
        format!("{}/{}/gpio/{}", self.prefix, self.device, pin)
    }

    /// `<prefix>/<id>/gpio/<pin>/meter`: retained meter reading.
    pub fn meter(&self, pin: u8) -> String {
        format!("{}/meter", self.gpio(pin))
    }

    /// `<prefix>/<id>/gpio/<pin>/watchdog`: one event per silence, not retained.
    pub fn watchdog(&self, pin: u8) -> String {
        format!("{}/watchdog", self.gpio(pin))
    }

    /// `<prefix>/<id>/info`: retained device description.
    pub fn info(&self) -> String {
        self.sub("info")
    }

    /// `<prefix>/<id>/stats`: periodic counters.
    pub fn stats(&self) -> String {
        self.sub("stats")
    }

    /// `<prefix>/<id>/config`: retained config in force.
    pub fn config(&self) -> String {
        self.sub("config")
    }

    /// `<prefix>/<id>/config/set`: merge patches for this device.
    pub fn config_set(&self) -> String {
        self.sub("config/set")
    }

    /// `<prefix>/<id>/config/result`: the answer to each patch.
    pub fn config_result(&self) -> String {
        self.sub("config/result")
    }

    /// `<prefix>/<id>/probe`: published and subscribed by the device itself, to prove that the
    /// broker delivers what it publishes under the prefix (not retained).
    pub fn probe(&self) -> String {
        self.sub("probe")
    }

    /// `<prefix>/group/<group>/config/set`: merge patches for every device of `group`.
    pub fn group_config_set(&self, group: &str) -> String {
        format!("{}/group/{group}/config/set", self.prefix)
    }

    /// `<prefix>/<id>/#`: everything this device publishes (for subscribers and tests).
    pub fn all(&self) -> String {
        self.sub("#")
    }
}

#[cfg(test)]
#[path = "topics_tests.rs"]
mod tests;
