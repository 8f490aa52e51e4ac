//! The `meter` table of an input: which edges are pulses, their unit, and how often the meter
//! reports and saves its total. Owned here (the layer that uses it); the config embeds it.

use serde::{Deserialize, Serialize};

/// Which edges of an input are pulses (after its filters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CountMode {
    /// Low → high changes.
    #[default]
    Rising,
    /// High → low changes.
    Falling,
    /// Every change.
    Both,
}

impl CountMode {
    /// Whether a change to `level` is a pulse.
    pub fn counts(self, level: u8) -> bool {
        match self {
            CountMode::Rising => level == 1,
            CountMode::Falling => level == 0,
            CountMode::Both => true,
        }
    }
}

/// One input's meter settings (`inputs[].meter`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterConfig {
    /// Which edges are pulses.
    #[serde(default)]
    pub count: CountMode,
    /// Pulses per unit of the total (1000 for a 1000 imp/kWh meter); `total = pulses / this`.
    #[serde(default = "one")]
    pub pulses_per_unit: f64,
    /// Unit of the total (`kWh`, `L`, `m³`, `mm`, …).
    #[serde(default = "default_unit")]
    pub unit: String,
    /// Unit of the rate (`kW`, `L/min`, `mm/h`, …); unset: the usual one for `unit`
    /// (see [`super::units::default_rate_unit`]).
    #[serde(default)]
    pub rate_unit: Option<String>,
    /// Home Assistant `device_class` of the total's sensor; unset: the one its unit implies.
    #[serde(default)]
    pub device_class: Option<String>,
    /// Seconds between two meter messages.
    #[serde(default = "default_interval_s")]
    pub interval_s: u64,
    /// Seconds between two saves of the total in `state_dir` (also saved at every clean stop).
    #[serde(default = "default_persist_s")]
    pub persist_s: u64,
    /// An action, not a setting: `true` in a remote patch sets the total to zero once. It is
    /// consumed by the patch and never kept in the config in force nor persisted (it always
    /// reads `false` there), so a restart does not zero the total again.
    #[serde(default)]
    pub reset: bool,
}

// Validation refuses NaN and non-positive factors, so equality is total on accepted configs.
impl Eq for MeterConfig {}

impl Default for MeterConfig {
    fn default() -> Self {
        MeterConfig {
            count: CountMode::default(),
            pulses_per_unit: one(),
            unit: default_unit(),
            rate_unit: None,
            device_class: None,
            interval_s: default_interval_s(),
            persist_s: default_persist_s(),
            reset: false,
        }
    }
}

impl MeterConfig {
    /// The rate unit in force: the configured one, or the usual one for the total's unit.
    pub fn rate_unit(&self) -> String {
        self.rate_unit
            .clone()
            .unwrap_or_else(|| super::units::default_rate_unit(&self.unit))
    }
}

fn one() -> f64 {
    1.0
}

fn default_unit() -> String {
    "pulses".into()
}

/// Default seconds between meter messages.
pub const DEFAULT_INTERVAL_S: u64 = 10;
/// Default seconds between saves of the total.
pub const DEFAULT_PERSIST_S: u64 = 60;

fn default_interval_s() -> u64 {
    DEFAULT_INTERVAL_S
}

fn default_persist_s() -> u64 {
    DEFAULT_PERSIST_S
}
