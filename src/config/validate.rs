//! Validation: every rule names the key it checks and says why the value is refused.

use super::{Backend, Config};
use crate::edges::MAX_PIN;
use std::fmt;

/// One refused value: the key (`inputs[1].pin`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Dotted key path, with `[i]` for list items; empty for the whole document.
    pub field: String,
    /// Why the value is refused.
    pub reason: String,
}

impl FieldError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The layers could not be read or merged (missing file, TOML syntax, bad override).
    #[error("cannot load config: {0}")]
    Load(String),
    /// One or more values are refused.
    #[error("invalid config: {}", join(.0))]
    Invalid(Vec<FieldError>),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Longest sample period the DMA pacing clock is set up for.
const MAX_DMA_PERIOD_US: u32 = 1000;

/// Highest per-pin rate limit: one edge per sample at the fastest (1 µs) period.
const MAX_EDGES_PER_S: u32 = 1_000_000;

/// Home Assistant's binary_sensor device classes
/// (<https://www.home-assistant.io/integrations/binary_sensor/#device-class>).
pub const BINARY_SENSOR_CLASSES: &[&str] = &[
    "battery",
    "battery_charging",
    "carbon_monoxide",
    "cold",
    "connectivity",
    "door",
    "garage_door",
    "gas",
    "heat",
    "light",
    "lock",
    "moisture",
    "motion",
    "moving",
    "occupancy",
    "opening",
    "plug",
    "power",
    "presence",
    "problem",
    "running",
    "safety",
    "smoke",
    "sound",
    "tamper",
    "update",
    "vibration",
    "window",
];

/// Smallest spool: one segment of 64 KiB.
const MIN_SPOOL_BYTES: u64 = 64 * 1024;
/// Largest spool: 1 TiB, far beyond any SD card.
const MAX_SPOOL_BYTES: u64 = 1 << 40;

/// Longest filter time accepted: one hour, far beyond any debounce, far below overflow.
const MAX_FILTER_US: u64 = 3_600_000_000;

impl Config {
    /// Checks every rule; returns all refusals at once so a user fixes them in one go.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut errs = Vec::new();
        let mut check = |ok: bool, field: &str, reason: String| {
            if !ok {
                errs.push(FieldError::new(field, reason));
            }
        };

        check(
            is_id(&self.device_id),
            "device_id",
            format!(
                "`{}` must be 1-64 characters of A-Z, a-z, 0-9, `_` or `-`",
                self.device_id
            ),
        );

        for (i, g) in self.groups.iter().enumerate() {
            check(
                is_id(g),
                &format!("groups[{i}]"),
                format!("`{g}` must be 1-64 characters of A-Z, a-z, 0-9, `_` or `-`"),
            );
        }
        check(
            !self.state_dir.as_os_str().is_empty(),
            "state_dir",
            "must not be empty".into(),
        );

        let s = &self.sampler;
        check(
            (1..=1_000_000).contains(&s.period_us),
            "sampler.period_us",
            format!("{} is out of range (1-1000000 µs)", s.period_us),
        );
        check(
            (1..=1_000_000).contains(&s.block_samples),
            "sampler.block_samples",
            format!("{} is out of range (1-1000000)", s.block_samples),
        );
        if s.backend == Backend::Replay {
            check(
                !s.replay.signal.as_os_str().is_empty(),
                "sampler.replay.signal",
                "the replay backend needs a VCD file".into(),
            );
        }
        if s.backend != Backend::Replay {
            check(
                (1..=MAX_DMA_PERIOD_US).contains(&s.period_us),
                "sampler.period_us",
                format!(
                    "{} µs cannot be paced by the DMA backends (1-{MAX_DMA_PERIOD_US} µs, whole µs)",
                    s.period_us
                ),
            );
            let block_us = u64::from(s.period_us) * u64::from(s.block_samples);
            check(
                u64::from(s.buffer_ms) * 1000 >= 2 * block_us && s.buffer_ms <= 10_000,
                "sampler.buffer_ms",
                format!(
                    "{} ms must hold at least two blocks ({} µs each) and be at most 10000",
                    s.buffer_ms, block_us
                ),
            );
            if let Some(ch) = s.dma_channel {
                check(
                    ch <= 15,
                    "sampler.dma_channel",
                    format!("{ch} is not a DMA channel (0-15)"),
                );
            }
        }
        if s.backend == Backend::Emulated && s.emulated.mem.is_none() {
            // The emulated engine is as slow as the board's silicon: say so before it runs late.
            // (An attached board file names its own board: the sampler warns when it opens.)
            let board = crate::hw::board::Board::emulated(s.emulated.board);
            let shortest = board.shortest_period_us();
            check(
                s.period_us >= shortest,
                "sampler.period_us",
                format!(
                    "{} µs is shorter than the {} sustains ({shortest} µs: two DMA control \
                     blocks per sample at {} ns each)",
                    s.period_us,
                    board.model,
                    board.cb_cost_ns()
                ),
            );
        }
        if s.backend == Backend::Emulated && s.emulated.mem.is_none() {
            check(
                !s.emulated.signal.as_os_str().is_empty(),
                "sampler.emulated.signal",
                "the in-process emulator needs a VCD file to drive the pins".into(),
            );
        }

        check(
            !self.inputs.is_empty(),
            "inputs",
            "at least one input is needed".into(),
        );
        for (i, input) in self.inputs.iter().enumerate() {
            let at = |k: &str| format!("inputs[{i}].{k}");
            check(
                input.pin <= MAX_PIN,
                &at("pin"),
                format!("pin {} is not a GPIO (0-{MAX_PIN})", input.pin),
            );
            if let Some(first) = self.inputs[..i].iter().position(|o| o.pin == input.pin) {
                check(
                    false,
                    &at("pin"),
                    format!("pin {} is already used by inputs[{first}]", input.pin),
                );
            }
            check(
                input.name.chars().count() <= 64,
                &at("name"),
                "must be at most 64 characters".into(),
            );
            for (key, v) in [
                ("glitch_us", input.glitch_us),
                ("lockout_us", input.lockout_us),
                ("noise_steady_us", input.noise_steady_us),
                ("noise_active_us", input.noise_active_us),
            ] {
                check(
                    v <= MAX_FILTER_US,
                    &at(key),
                    format!("{v} is out of range (0-{MAX_FILTER_US} µs)"),
                );
            }
            check(
                (input.noise_steady_us == 0) == (input.noise_active_us == 0),
                &at("noise_active_us"),
                "noise_steady_us and noise_active_us must both be 0 or both be set".into(),
            );
            check(
                input.max_edges_per_s <= MAX_EDGES_PER_S,
                &at("max_edges_per_s"),
                format!(
                    "{} is out of range (0 = no limit, up to {MAX_EDGES_PER_S})",
                    input.max_edges_per_s
                ),
            );
            if let Some(class) = &input.device_class {
                check(
                    BINARY_SENSOR_CLASSES.contains(&class.as_str()),
                    &at("device_class"),
                    format!(
                        "`{class}` is not a Home Assistant binary_sensor device class ({})",
                        BINARY_SENSOR_CLASSES.join(", ")
                    ),
                );
            }
        }

        let b = &self.batch;
        check(
            (1..=65_536).contains(&b.max_edges),
            "batch.max_edges",
            format!("{} is out of range (1-65536)", b.max_edges),
        );
        check(
            (1..=60_000).contains(&b.max_age_ms),
            "batch.max_age_ms",
            format!("{} is out of range (1-60000 ms)", b.max_age_ms),
        );
        check(
            (1..=1_000_000).contains(&b.queue_batches),
            "batch.queue_batches",
            format!("{} is out of range (1-1000000)", b.queue_batches),
        );

        let m = &self.mqtt;
        check(!m.host.is_empty(), "mqtt.host", "must not be empty".into());
        check(m.port != 0, "mqtt.port", "0 is not a port".into());
        check(
            is_topic_prefix(&m.topic_prefix),
            "mqtt.topic_prefix",
            format!(
                "`{}` must be non-empty, without `+`, `#`, or a leading or trailing `/`",
                m.topic_prefix
            ),
        );
        check(
            m.qos <= 2,
            "mqtt.qos",
            format!("{} is not a QoS (0, 1 or 2)", m.qos),
        );
        check(
            (5..=65_535).contains(&m.keep_alive_s),
            "mqtt.keep_alive_s",
            format!("{} is out of range (5-65535 s)", m.keep_alive_s),
        );
        check(
            m.reconnect_min_ms >= 1 && m.reconnect_min_ms <= m.reconnect_max_ms,
            "mqtt.reconnect_min_ms",
            format!(
                "{} must be at least 1 and at most mqtt.reconnect_max_ms ({})",
                m.reconnect_min_ms, m.reconnect_max_ms
            ),
        );
        check(
            (5..=3600).contains(&m.rollback_after_s),
            "mqtt.rollback_after_s",
            format!("{} is out of range (5-3600 s)", m.rollback_after_s),
        );
        check(
            (1..=3600).contains(&self.stats.interval_s),
            "stats.interval_s",
            format!("{} is out of range (1-3600 s)", self.stats.interval_s),
        );
        check(
            is_topic_prefix(&self.homeassistant.prefix),
            "homeassistant.prefix",
            format!(
                "`{}` must be non-empty, without `+`, `#`, or a leading or trailing `/`",
                self.homeassistant.prefix
            ),
        );
        let sp = &self.spool;
        check(
            (MIN_SPOOL_BYTES..=MAX_SPOOL_BYTES).contains(&sp.max_bytes),
            "spool.max_bytes",
            format!(
                "{} is out of range ({MIN_SPOOL_BYTES}-{MAX_SPOOL_BYTES} bytes)",
                sp.max_bytes
            ),
        );
        check(
            (1..=100_000).contains(&sp.replay_rate),
            "spool.replay_rate",
            format!("{} is out of range (1-100000 batches/s)", sp.replay_rate),
        );
        check(
            (10..=60_000).contains(&sp.fsync_interval_ms),
            "spool.fsync_interval_ms",
            format!("{} is out of range (10-60000 ms)", sp.fsync_interval_ms),
        );
        if m.embedded_broker {
            check(
                m.host.parse::<std::net::IpAddr>().is_ok(),
                "mqtt.host",
                format!(
                    "`{}` must be an IP address for the embedded broker to listen on",
                    m.host
                ),
            );
        }

        if errs.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(errs))
        }
    }
}

/// A topic prefix: non-empty, no wildcard or NUL, no leading or trailing `/`.
fn is_topic_prefix(p: &str) -> bool {
    !p.is_empty() && !p.contains(['+', '#', '\0']) && !p.starts_with('/') && !p.ends_with('/')
}

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
