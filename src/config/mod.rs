//! The agent's configuration: one typed struct, loaded from file + environment + CLI overrides,
//! and validated with errors that name the key and the reason.
//!
//! One file per section (`batch`, `homeassistant`, `inputs`, `mqtt`, `sampler`, `spool`,
//! `stats`): its settings, defaults, rules, and what a change to it means. The settings of the
//! layers below the config (sampler, emulated board, pacer, spool policies) are theirs; the
//! config re-exports them.
//!
//! Remote changes are merge patches over the config in force, checked the same way:
//! [`RemoteConfig::apply`] says what to rebuild ([`ChangeSet`]), [`save`] and [`overlay`] keep
//! them across restarts in `state_dir`.

mod batch;
mod changes;
mod changeset;
mod envelope;
mod error;
mod homeassistant;
mod inputs;
mod load;
mod mqtt;
mod overrides;
mod persist;
mod remote;
mod sampler;
mod spool;
mod stats;
mod topic;
mod validate;

pub use batch::BatchConfig;
pub use homeassistant::HomeAssistantConfig;
pub use inputs::{InputConfig, BINARY_SENSOR_CLASSES, DEFAULT_MAX_EDGES_PER_S};
pub use mqtt::MqttConfig;
pub use spool::SpoolConfig;
pub use stats::StatsConfig;
pub use topic::MAX_PREFIX_BYTES;

pub use changes::diff;
pub use changeset::ChangeSet;
pub use envelope::{is_stale_retained, MAX_PAYLOAD};
pub use error::{ConfigError, FieldError};
pub use load::{load, load_str, ConfigSource};
pub use persist::{overlay, reset, save, PersistError, STATE_FILE};
pub use remote::{
    effective_json, result_json, result_json_kept, Accepted, Handled, Rejected, RemoteConfig,
    LOCAL_ONLY, MAX_VERSION_STEP,
};

pub use crate::emu::{EmulatedConfig, FaultsConfig};
pub use crate::hw::board::BoardKind;
pub use crate::hw::pacing::Pacer;
pub use crate::sampler::{Backend, ReplayConfig, SamplerConfig};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything edgetap needs to run. Unknown keys are rejected at every level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Identifies this device in MQTT topics and the client id: `[A-Za-z0-9_-]{1,64}`.
    pub device_id: String,
    /// MQTT groups this device belongs to: it also takes patches from
    /// `<prefix>/group/<g>/config/set`. Each `[A-Za-z0-9_-]{1,64}`. Local-only.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Directory for state that survives restarts (the persisted remote config); relative to the
    /// config file. Local-only.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// Where the sampler gets its levels from.
    #[serde(default)]
    pub sampler: SamplerConfig,
    /// The watched pins and their filters.
    #[serde(default)]
    pub inputs: Vec<InputConfig>,
    /// When batches are closed.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Broker connection and topics.
    #[serde(default)]
    pub mqtt: MqttConfig,
    /// The periodic `stats` message.
    #[serde(default)]
    pub stats: StatsConfig,
    /// Home Assistant MQTT discovery.
    #[serde(default)]
    pub homeassistant: HomeAssistantConfig,
    /// The on-disk store-and-forward spool.
    #[serde(default)]
    pub spool: SpoolConfig,
}

/// The default `state_dir`: the FHS place for a daemon's persistent state.
fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/edgetap")
}

impl Config {
    /// The watched pins, in config order.
    pub fn pins(&self) -> impl Iterator<Item = u8> + '_ {
        self.inputs.iter().map(|i| i.pin)
    }

    /// A copy safe to print or publish: secrets replaced by `"***"`.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        if c.mqtt.password.is_some() {
            c.mqtt.password = Some("***".into());
        }
        c
    }
}

impl<'a> From<&'a Config> for crate::sampler::SamplerSpec<'a> {
    fn from(c: &'a Config) -> Self {
        crate::sampler::SamplerSpec {
            settings: &c.sampler,
            words: crate::block::LevelWords::for_pins(c.pins()),
            pins: c.pins().collect(),
            state_dir: &c.state_dir,
        }
    }
}
