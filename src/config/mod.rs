//! The agent's configuration: one typed struct, loaded from file + environment + CLI overrides,
//! and validated with errors that name the key and the reason.
//!
//! Remote changes (issue 4) are merge patches over the config in force, checked the same way:
//! [`RemoteConfig::apply`] says what to rebuild ([`ChangeSet`]), [`save`] and [`overlay`] keep
//! them across restarts in `state_dir`.

mod changes;
mod envelope;
mod load;
mod persist;
mod remote;
mod validate;

pub use changes::{diff, ChangeSet};
pub use envelope::{is_stale_retained, MAX_PAYLOAD};
pub use load::{load, load_str, ConfigSource};
pub use persist::{overlay, save, PersistError, STATE_FILE};
pub use remote::{
    effective_json, result_json, Accepted, Handled, Rejected, RemoteConfig, LOCAL_ONLY,
};
pub use validate::{ConfigError, FieldError, BINARY_SENSOR_CLASSES};

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

/// One watched pin and its filters. All filter times 0 = pass-through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// GPIO number (BCM), 0–53.
    pub pin: u8,
    /// Human name, used in logs and discovery.
    #[serde(default)]
    pub name: String,
    /// A new level is reported only after it has been stable this long (µs).
    #[serde(default)]
    pub glitch_us: u64,
    /// After a reported edge, changes are ignored for this long (µs).
    #[serde(default)]
    pub lockout_us: u64,
    /// pigpio noise filter: changes are ignored until the level has been stable this long (µs).
    #[serde(default)]
    pub noise_steady_us: u64,
    /// pigpio noise filter: after a steady period, changes are reported for this long (µs).
    #[serde(default)]
    pub noise_active_us: u64,
    /// Flood protection: at most this many edges per second are reported for this pin; beyond
    /// it edges are dropped, counted, and marked in the batch (`rate_limited`). 0 = no limit.
    #[serde(default = "default_max_edges_per_s")]
    pub max_edges_per_s: u32,
    /// Home Assistant `device_class` of this input's binary sensor (`door`, `motion`, …).
    #[serde(default)]
    pub device_class: Option<String>,
}

/// Default per-pin rate limit: far above any meter or switch, well below what one pin can
/// flood at 1 µs sampling (500,000 edges/s).
pub const DEFAULT_MAX_EDGES_PER_S: u32 = 25_000;

fn default_max_edges_per_s() -> u32 {
    DEFAULT_MAX_EDGES_PER_S
}

impl InputConfig {
    /// The filter settings of this input.
    pub fn filter(&self) -> crate::edges::filter::FilterSettings {
        crate::edges::filter::FilterSettings {
            glitch_us: self.glitch_us,
            lockout_us: self.lockout_us,
            noise_steady_us: self.noise_steady_us,
            noise_active_us: self.noise_active_us,
        }
    }
}

/// When batches are closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// A batch is sent as soon as it holds this many edges.
    pub max_edges: usize,
    /// A batch is sent at the latest this long after its first edge (ms).
    pub max_age_ms: u64,
    /// Batches waiting for the broker; beyond this the oldest are dropped and counted.
    pub queue_batches: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_edges: 512,
            max_age_ms: 10,
            queue_batches: 1024,
        }
    }
}

/// Broker connection and topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker host name or address.
    pub host: String,
    /// Broker TCP port.
    pub port: u16,
    /// First topic level of every topic edgetap publishes.
    pub topic_prefix: String,
    /// QoS of edge batches (0, 1 or 2).
    pub qos: u8,
    /// Start an in-process broker (rumqttd) listening on host:port.
    pub embedded_broker: bool,
    /// MQTT keep-alive (s).
    pub keep_alive_s: u64,
    /// Optional user name.
    pub username: Option<String>,
    /// Optional password (never logged).
    pub password: Option<String>,
    /// First reconnect delay (ms); doubles per failure up to `reconnect_max_ms`, with jitter.
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay (ms).
    pub reconnect_max_ms: u64,
    /// After a remote change of the connection, revert to the previous settings if the broker is
    /// not reached within this many seconds (5–3600).
    pub rollback_after_s: u64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            host: "127.0.0.1".into(),
            port: 1883,
            topic_prefix: "edgetap".into(),
            qos: 1,
            embedded_broker: false,
            keep_alive_s: 30,
            username: None,
            password: None,
            reconnect_min_ms: 250,
            reconnect_max_ms: 30_000,
            rollback_after_s: 60,
        }
    }
}

/// The periodic `<prefix>/<id>/stats` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatsConfig {
    /// Seconds between two stats messages (1-3600).
    pub interval_s: u64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig { interval_s: 10 }
    }
}

/// The on-disk spool under `<state_dir>/spool`: batches the broker has not acknowledged wait
/// there through outages and restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Spool batches to disk; false: unacknowledged batches wait in memory only (bounded by
    /// `batch.queue_batches`) and are lost with the process.
    pub enabled: bool,
    /// Bound on the spool's size on disk (bytes).
    pub max_bytes: u64,
    /// What is given up when the spool is full.
    pub policy: crate::spool::DropPolicy,
    /// Spooled batches published per second at most after a reconnect, so a backlog does not
    /// starve live batches.
    pub replay_rate: u32,
    /// When spooled batches are forced to the medium.
    pub fsync: crate::spool::FsyncPolicy,
    /// Period of syncs under `fsync = "interval"` (ms).
    pub fsync_interval_ms: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            enabled: true,
            max_bytes: 64 << 20,
            policy: crate::spool::DropPolicy::DropOldest,
            replay_rate: 500,
            fsync: crate::spool::FsyncPolicy::Interval,
            fsync_interval_ms: 1000,
        }
    }
}

/// Home Assistant MQTT discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HomeAssistantConfig {
    /// Publish discovery configs (retained) for every input and for the stats sensors.
    pub enabled: bool,
    /// Discovery prefix; Home Assistant's default is `homeassistant`.
    pub prefix: String,
}

impl Default for HomeAssistantConfig {
    fn default() -> Self {
        HomeAssistantConfig {
            enabled: true,
            prefix: "homeassistant".into(),
        }
    }
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
        }
    }
}
