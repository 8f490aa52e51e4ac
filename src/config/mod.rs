//! The agent's configuration: one typed struct, loaded from file + environment + CLI overrides,
//! and validated with errors that name the key and the reason.
//!
//! Remote changes (issue 4) are merge patches over the config in force, checked the same way:
//! [`RemoteConfig::apply`] says what to rebuild ([`ChangeSet`]), [`save`] and [`overlay`] keep
//! them across restarts in `state_dir`.

mod changes;
mod envelope;
mod load;
mod overrides;
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

/// Which sampler backend feeds the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Replays a VCD file: no hardware needed.
    Replay,
    /// The DMA engine of an emulated board (a memory file shared with the emulator).
    Emulated,
    /// The DMA engine of a real BCM283x/BCM2711 Raspberry Pi, through `/dev/mem`.
    Dma,
}

impl Backend {
    /// The name config files use (`sampler.backend`), also published on the `info` topic.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Replay => "replay",
            Backend::Emulated => "emulated",
            Backend::Dma => "dma",
        }
    }
}

/// Which peripheral's FIFO paces the DMA engine (one FIFO word per sample).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pacer {
    /// The PWM FIFO (PERMAP 5): keep it free of other PWM users (analogue audio).
    Pwm,
    /// The PCM FIFO (PERMAP 2): keep it free of I2S audio.
    Pcm,
}

/// The boards the emulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardKind {
    /// Raspberry Pi 3 (BCM2837): peripherals at 0x3F000000, PLLD 500 MHz.
    Pi3,
    /// Raspberry Pi 4 (BCM2711): peripherals at 0xFE000000, PLLD 750 MHz.
    Pi4,
}

/// Sampler settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplerConfig {
    /// Backend that produces samples.
    pub backend: Backend,
    /// Microseconds between two samples.
    pub period_us: u32,
    /// Samples per block (one timer read per block on the DMA backend).
    pub block_samples: u32,
    /// DMA backends: how much signal the ring of blocks holds (ms) before an unread block is
    /// overwritten (an overrun, reported as a gap).
    pub buffer_ms: u32,
    /// DMA backends: the FIFO that paces sampling.
    pub pacer: Pacer,
    /// DMA backends: the DMA channel; unset: the board's default (14 on Pi ≤ 3, 7 on Pi 4).
    pub dma_channel: Option<u8>,
    /// DMA backend: the physical-memory device (a Pi's `/dev/mem`).
    pub mem_device: PathBuf,
    /// Settings of the replay backend.
    pub replay: ReplayConfig,
    /// Settings of the emulated board.
    pub emulated: EmulatedConfig,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            backend: Backend::Replay,
            period_us: 5,
            block_samples: 1000,
            buffer_ms: 100,
            pacer: Pacer::Pwm,
            dma_channel: None,
            mem_device: PathBuf::from("/dev/mem"),
            replay: ReplayConfig::default(),
            emulated: EmulatedConfig::default(),
        }
    }
}

/// Settings of the replay backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    /// VCD file whose wires named `gpio<N>` drive GPIO N; relative to the config file.
    pub signal: PathBuf,
    /// Pace samples to the wall clock; false replays as fast as possible.
    pub realtime: bool,
    /// Start over at the end of the file instead of stopping.
    #[serde(rename = "loop")]
    pub loop_: bool,
    /// UTC µs that VCD time 0 maps to; unset: the moment the replay starts.
    pub start_us: Option<u64>,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            signal: PathBuf::new(),
            realtime: true,
            loop_: false,
            start_us: None,
        }
    }
}

/// Settings of the emulated board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmulatedConfig {
    /// The board modelled.
    pub board: BoardKind,
    /// VCD file whose wires named `gpio<N>` drive GPIO N; relative to the config file.
    pub signal: PathBuf,
    /// Pace emulated time to the wall clock; false: lock-step (emulated time moves only while
    /// the sampler waits, deterministic, as fast as the machine goes).
    pub realtime: bool,
    /// Start the signal over at its end instead of holding the last levels.
    #[serde(rename = "loop")]
    pub loop_: bool,
    /// UTC µs of emulated time 0 (signal time 0); unset: when the emulator starts.
    pub start_us: Option<u64>,
    /// Attach to the board file of an emulator already running (`edgetap emulator --mem FILE`);
    /// unset: start one in-process on a fresh file.
    pub mem: Option<PathBuf>,
    /// Faults the in-process emulator injects.
    pub faults: FaultsConfig,
}

impl Default for EmulatedConfig {
    fn default() -> Self {
        EmulatedConfig {
            board: BoardKind::Pi4,
            signal: PathBuf::new(),
            realtime: true,
            loop_: false,
            start_us: None,
            mem: None,
            faults: FaultsConfig::default(),
        }
    }
}

/// Faults seen on real boards, injected by the emulator. All 0 = none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultsConfig {
    /// Random extra delay of up to this many ns on every paced FIFO write.
    pub jitter_ns: u32,
    /// The engine halts this long (µs) every `stall_every_ms` (the GPU's ~16 µs every 500 ms).
    pub stall_us: u32,
    /// Period of the stall (ms).
    pub stall_every_ms: u32,
    /// Someone else resets the channel this long after it first starts (ms); 0 = never.
    pub reset_after_ms: u32,
    /// The consumer stalls this long (ms) once, `consumer_stall_after_ms` after the start.
    pub consumer_stall_ms: u32,
    /// When the consumer stall happens (ms after the start).
    pub consumer_stall_after_ms: u32,
    /// The system timer starts this many µs before its 2^32 wrap; 0 = starts at 0.
    pub clo_before_wrap_us: u32,
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
