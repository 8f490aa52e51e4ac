//! The `[[inputs]]` section: the watched pins, their filters, rate limits and names.

use std::collections::BTreeMap;

use super::changeset::ChangeSet;
use super::error::Refusals;
use crate::block::LevelWords;
use crate::edges::filter::FilterSettings;
use crate::edges::MAX_PIN;
use crate::hw::pull::Pull;
use serde::{Deserialize, Serialize};

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
    /// The pad's pull resistor, set at start and on a change (`keep`: leave the pad as it is).
    /// Only the DMA and emulated backends reach the pads.
    #[serde(default)]
    pub pull: Pull,
    /// The logical level is the inverse of the pin (a normally-closed contact): edges, the
    /// level topic and the filters all see the logical level.
    #[serde(default)]
    pub invert: bool,
}

/// Default per-pin rate limit: far above any meter or switch, well below what one pin can
/// flood at 1 µs sampling (500,000 edges/s).
pub const DEFAULT_MAX_EDGES_PER_S: u32 = 25_000;

fn default_max_edges_per_s() -> u32 {
    DEFAULT_MAX_EDGES_PER_S
}

/// Highest per-pin rate limit: one edge per sample at the fastest (1 µs) period.
const MAX_EDGES_PER_S: u32 = 1_000_000;

/// Longest filter time accepted: one hour, far beyond any debounce, far below overflow.
const MAX_FILTER_US: u64 = 3_600_000_000;

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

impl InputConfig {
    /// The filter settings of this input.
    pub fn filter(&self) -> FilterSettings {
        FilterSettings {
            glitch_us: self.glitch_us,
            lockout_us: self.lockout_us,
            noise_steady_us: self.noise_steady_us,
            noise_active_us: self.noise_active_us,
        }
    }

    /// What going from `self` to `new` (the same pin) means. Every key is named: a new one
    /// does not compile until its change is classified here.
    fn classify(&self, new: &InputConfig, c: &mut ChangeSet) {
        let InputConfig {
            // The key inputs are matched by (see `classify`).
            pin,
            name,
            glitch_us,
            lockout_us,
            noise_steady_us,
            noise_active_us,
            max_edges_per_s,
            device_class,
            pull,
            invert,
        } = self;
        // A fresh filter for this pin; the others keep their state. An inverted pin's logical
        // level flips: its filter state means nothing any more.
        let filter = *glitch_us != new.glitch_us
            || *lockout_us != new.lockout_us
            || *noise_steady_us != new.noise_steady_us
            || *noise_active_us != new.noise_active_us
            || *invert != new.invert;
        // A fresh limiter only.
        let limit = *max_edges_per_s != new.max_edges_per_s;
        // Discovery and info are republished; a rebuilt pin is republished anyway.
        let label = *name != new.name || *device_class != new.device_class;
        if filter {
            c.filters_changed.push(*pin);
        }
        if limit {
            c.limits_changed.push(*pin);
        }
        if label && !filter && !limit {
            c.names_changed.push(*pin);
        }
        // The pad is set again; "keep" leaves it as the last setting left it.
        if *pull != new.pull && new.pull != Pull::Keep {
            c.pulls_changed.push(*pin);
        }
    }
}

/// Checks the section's rules.
pub(super) fn validate(inputs: &[InputConfig], r: &mut Refusals) {
    r.check(
        !inputs.is_empty(),
        "inputs",
        "at least one input is needed".into(),
    );
    for (i, input) in inputs.iter().enumerate() {
        let at = |k: &str| format!("inputs[{i}].{k}");
        r.check(
            input.pin <= MAX_PIN,
            &at("pin"),
            format!("pin {} is not a GPIO (0-{MAX_PIN})", input.pin),
        );
        if let Some(first) = inputs[..i].iter().position(|o| o.pin == input.pin) {
            r.check(
                false,
                &at("pin"),
                format!("pin {} is already used by inputs[{first}]", input.pin),
            );
        }
        r.check(
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
            r.check(
                v <= MAX_FILTER_US,
                &at(key),
                format!("{v} is out of range (0-{MAX_FILTER_US} µs)"),
            );
        }
        r.check(
            (input.noise_steady_us == 0) == (input.noise_active_us == 0),
            &at("noise_active_us"),
            "noise_steady_us and noise_active_us must both be 0 or both be set".into(),
        );
        r.check(
            input.max_edges_per_s <= MAX_EDGES_PER_S,
            &at("max_edges_per_s"),
            format!(
                "{} is out of range (0 = no limit, up to {MAX_EDGES_PER_S})",
                input.max_edges_per_s
            ),
        );
        if let Some(class) = &input.device_class {
            r.check(
                BINARY_SENSOR_CLASSES.contains(&class.as_str()),
                &at("device_class"),
                format!(
                    "`{class}` is not a Home Assistant binary_sensor device class ({})",
                    BINARY_SENSOR_CLASSES.join(", ")
                ),
            );
        }
    }
}

/// What going from `old` to `new` means, pin by pin: the order of the list carries no meaning
/// for the pipeline.
pub(super) fn classify(old: &[InputConfig], new: &[InputConfig], c: &mut ChangeSet) {
    let before: BTreeMap<u8, _> = old.iter().map(|i| (i.pin, i)).collect();
    let after: BTreeMap<u8, _> = new.iter().map(|i| (i.pin, i)).collect();
    c.pins_added = after
        .keys()
        .filter(|p| !before.contains_key(p))
        .copied()
        .collect();
    c.pins_removed = before
        .keys()
        .filter(|p| !after.contains_key(p))
        .copied()
        .collect();
    for (pin, a) in &after {
        if let Some(b) = before.get(pin) {
            b.classify(a, c);
        }
    }
    // A pin beyond GPIO 31 needs the second level word, which only a new chain reads.
    let words = |inputs: &[InputConfig]| LevelWords::for_pins(inputs.iter().map(|i| i.pin));
    c.sampler_restart |= words(old) != words(new);
}
