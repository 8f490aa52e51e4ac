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
            !m.topic_prefix.is_empty()
                && !m.topic_prefix.contains(['+', '#', '\0'])
                && !m.topic_prefix.starts_with('/')
                && !m.topic_prefix.ends_with('/'),
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

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::super::load_str;
    use super::*;
    use std::path::Path;

    fn base() -> String {
        r#"
device_id = "pi-01"
[sampler.replay]
signal = "x.vcd"
[[inputs]]
pin = 17
"#
        .to_string()
    }

    fn fields(text: &str) -> Vec<String> {
        match load_str(text, Path::new(".")) {
            Err(ConfigError::Invalid(errs)) => errs.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn base_is_valid() {
        load_str(&base(), Path::new(".")).unwrap();
    }

    #[test]
    fn pin_out_of_range_is_named_with_reason() {
        let err = load_str(&base().replace("17", "60"), Path::new(".")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid config: inputs[0].pin: pin 60 is not a GPIO (0-53)"
        );
    }

    /// The base config on the emulated backend with `sampler` lines added.
    fn emulated(sampler: &str) -> String {
        base().replace(
            "[[inputs]]",
            &format!(
                "[sampler]\nbackend = \"emulated\"\n{sampler}\n[sampler.emulated]\nsignal = \"x.vcd\"\n[[inputs]]"
            ),
        )
    }

    #[test]
    fn each_rule_names_its_key() {
        let cases = [
            (base().replace("pi-01", "pi/01"), "device_id"),
            (
                format!("{}\n[[inputs]]\npin = 17\n", base()),
                "inputs[1].pin",
            ),
            (
                base().replace("[[inputs]]", "[sampler]\nperiod_us = 0\n[[inputs]]"),
                "sampler.period_us",
            ),
            (
                format!("{}[batch]\nmax_edges = 0\n", base()),
                "batch.max_edges",
            ),
            (
                format!("{}[batch]\nmax_age_ms = 0\n", base()),
                "batch.max_age_ms",
            ),
            (format!("{}[mqtt]\nqos = 3\n", base()), "mqtt.qos"),
            (format!("{}[mqtt]\nport = 0\n", base()), "mqtt.port"),
            (
                format!("{}[mqtt]\ntopic_prefix = \"a/#\"\n", base()),
                "mqtt.topic_prefix",
            ),
            (
                format!("{}[mqtt]\nkeep_alive_s = 1\n", base()),
                "mqtt.keep_alive_s",
            ),
            (
                format!(
                    "{}[mqtt]\nembedded_broker = true\nhost = \"localhost\"\n",
                    base()
                ),
                "mqtt.host",
            ),
            (
                base().replace("device_id", "groups = [\"lab\", \"a b\"]\ndevice_id"),
                "groups[1]",
            ),
            (
                base().replace("device_id", "state_dir = \"\"\ndevice_id"),
                "state_dir",
            ),
            (
                format!("{}[mqtt]\nrollback_after_s = 4\n", base()),
                "mqtt.rollback_after_s",
            ),
            (
                emulated("period_us = 1001\nblock_samples = 10"),
                "sampler.period_us",
            ),
            (
                emulated("period_us = 5\nblock_samples = 1000\nbuffer_ms = 9"),
                "sampler.buffer_ms",
            ),
            (emulated("buffer_ms = 10001"), "sampler.buffer_ms"),
            (emulated("dma_channel = 16"), "sampler.dma_channel"),
            (
                base().replace(
                    "[[inputs]]",
                    "[sampler]\nbackend = \"emulated\"\n[[inputs]]",
                ),
                "sampler.emulated.signal",
            ),
            (
                format!("{}[mqtt]\nrollback_after_s = 3601\n", base()),
                "mqtt.rollback_after_s",
            ),
            (
                base().replace("pin = 17", "pin = 17\nnoise_steady_us = 5"),
                "inputs[0].noise_active_us",
            ),
            (
                base().replace("pin = 17", "pin = 17\nglitch_us = 99999999999"),
                "inputs[0].glitch_us",
            ),
        ];
        for (text, field) in cases {
            assert_eq!(fields(&text), vec![field.to_string()], "{text}");
        }
    }

    #[test]
    fn all_refusals_are_reported_together() {
        let text = format!("{}[batch]\nmax_edges = 0\n[mqtt]\nqos = 9\n", base());
        assert_eq!(fields(&text), vec!["batch.max_edges", "mqtt.qos"]);
    }

    #[test]
    fn no_inputs_is_refused() {
        let text = "device_id = \"a\"\n[sampler.replay]\nsignal = \"x.vcd\"\n";
        assert_eq!(fields(text), vec!["inputs"]);
    }

    #[test]
    fn redacted_hides_password() {
        let mut c = load_str(&base(), Path::new(".")).unwrap();
        c.mqtt.password = Some("hunter2".into());
        let shown = serde_json::to_string(&c.redacted()).unwrap();
        assert!(!shown.contains("hunter2"));
    }
}
