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
mod identity;
mod inputs;
mod lines;
mod load;
mod mqtt;
mod overrides;
mod persist;
mod remote;
mod sampler;
mod secrets;
mod sensor_classes;
mod spool;
mod stats;
mod tls;
mod topic;
mod validate;

pub use batch::BatchConfig;
pub use homeassistant::HomeAssistantConfig;
pub use identity::{host_device_id, DeviceIdFrom};
pub use inputs::{InputConfig, BINARY_SENSOR_CLASSES, DEFAULT_MAX_EDGES_PER_S};
pub use mqtt::MqttConfig;
pub use secrets::PasswordFrom;
pub use sensor_classes::{
    accepts, rate_device_class, sensor_class, total_device_class, SensorClass, SENSOR_CLASSES,
};
pub use spool::SpoolConfig;
pub use stats::StatsConfig;
pub use tls::{TlsConfig, PLAIN_PORT, TLS_PORT};
pub use topic::MAX_PREFIX_BYTES;

pub use changes::diff;
pub use changeset::ChangeSet;
pub use envelope::{is_stale_retained, MAX_PAYLOAD};
pub use error::{ConfigError, FieldError};
pub use load::{load, load_explained, load_str, ConfigSource, Loaded};
pub use persist::{overlay, reset, save, PersistError, STATE_FILE};
pub use remote::{
    effective_json, result_json, result_json_kept, Accepted, Handled, Rejected, RemoteConfig,
    LOCAL_ONLY, MAX_VERSION_STEP,
};

pub use crate::emu::{EmulatedConfig, FaultsConfig};
pub use crate::hw::board::BoardKind;
pub use crate::hw::lineplan::EventClock;
pub use crate::hw::pacing::Pacer;
pub use crate::hw::pull::Pull;
pub use crate::meter::{CountMode, MeterConfig};
pub use crate::sampler::{Backend, CdevConfig, ReplayConfig, SamplerConfig};

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
    /// User to switch to once the hardware is mapped (the agent started as root); every
    /// capability is dropped then either way. Unset: keep the user it was started as.
    /// Local-only, read once at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
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
            pulls: c.inputs.iter().map(|i| (i.pin, i.pull)).collect(),
            state_dir: &c.state_dir,
            lines: c.line_specs(),
            max_edges_per_s: c.max_edges_per_s(),
        }
    }
}
