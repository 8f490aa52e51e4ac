//! The `[[inputs]]` section: the watched pins, their filters, rate limits and names.

use std::collections::BTreeMap;

use super::changeset::ChangeSet;
use super::error::Refusals;
use super::sensor_classes::accepts;
use crate::block::LevelWords;
use crate::edges::filter::FilterSettings;
use crate::edges::MAX_PIN;
use crate::hw::pull::Pull;
use crate::meter::units::rate_factor;
use crate::meter::MeterConfig;
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
    /// A pulse meter on this input (total, rate, interval metrics); absent: none.
    #[serde(default)]
    pub meter: Option<MeterConfig>,
    /// One `gpio/<pin>/watchdog` event when no edge (after the filters) came for this long
    /// (ms); 0 = no watchdog.
    #[serde(default)]
    pub watchdog_ms: u64,
    /// Whether this input's edges go into the `edges` batches; unset: not for a meter input,
    /// else yes.
    #[serde(default)]
    pub publish_edges: Option<bool>,
    /// Whether this input has a `gpio/<pin>` topic and a binary sensor; unset: not for a meter
    /// input, else yes.
    #[serde(default)]
    pub publish_level: Option<bool>,
}

/// Default per-pin rate limit: far above any meter or switch, well below what one pin can
/// flood at 1 µs sampling (500,000 edges/s).
pub const DEFAULT_MAX_EDGES_PER_S: u32 = 25_000;

fn default_max_edges_per_s() -> u32 {
    DEFAULT_MAX_EDGES_PER_S
}

/// Highest per-pin rate limit: one edge per sample at the fastest (1 µs) period.
pub(super) const MAX_EDGES_PER_S: u32 = 1_000_000;

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

    /// Whether this input's edges go into the batches (default: not for a meter input).
    pub fn publishes_edges(&self) -> bool {
        self.publish_edges.unwrap_or(self.meter.is_none())
    }

    /// Whether this input has a `gpio/<pin>` topic and a binary sensor (default: not for a
    /// meter input).
    pub fn publishes_level(&self) -> bool {
        self.publish_level.unwrap_or(self.meter.is_none())
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
            meter,
            watchdog_ms,
            publish_edges: _,
            publish_level: _,
        } = self;
        // The meter keeps its total whatever changes; `reset` is an action carried by the
        // patch (never in the config in force), so it is a change of its own.
        let settings =
            |m: &Option<MeterConfig>| m.clone().map(|m| MeterConfig { reset: false, ..m });
        if settings(meter) != settings(&new.meter) || *watchdog_ms != new.watchdog_ms {
            c.meters_changed.push(*pin);
        }
        if new.meter.as_ref().is_some_and(|m| m.reset) {
            c.meters_reset.push(*pin);
        }
        // What is published of the pin: batches, its gpio topic, discovery.
        if self.publishes_edges() != new.publishes_edges()
            || self.publishes_level() != new.publishes_level()
            || meter.is_some() != new.meter.is_some()
        {
            c.publishing_changed.push(*pin);
        }
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
        r.check(
            input.watchdog_ms <= MAX_WATCHDOG_MS,
            &at("watchdog_ms"),
            format!(
                "{} is out of range (0 = none, up to {MAX_WATCHDOG_MS} ms)",
                input.watchdog_ms
            ),
        );
        if let Some(m) = &input.meter {
            validate_meter(m, &|k| at(&format!("meter.{k}")), r);
        }
    }
}

/// Longest watchdog timeout: one day.
const MAX_WATCHDOG_MS: u64 = 86_400_000;

/// Longest meter interval or save period: one day.
const MAX_METER_S: u64 = 86_400;

/// Checks one input's `meter` table; `at` names a key of it.
fn validate_meter(m: &MeterConfig, at: &dyn Fn(&str) -> String, r: &mut Refusals) {
    r.check(
        m.pulses_per_unit.is_finite() && m.pulses_per_unit > 0.0,
        &at("pulses_per_unit"),
        format!("{} must be a number above 0", m.pulses_per_unit),
    );
    r.check(
        !m.unit.trim().is_empty() && m.unit.chars().count() <= 16,
        &at("unit"),
        "must be 1-16 characters".into(),
    );
    let rate_unit = m.rate_unit();
    r.check(
        rate_factor(&m.unit, &rate_unit).is_some(),
        &at("rate_unit"),
        format!(
            "`{rate_unit}` is not a rate of `{}`: use a power unit (W, kW, …) for an energy, or \
             `<amount>/<s|min|h|d>` with the total's unit or one of its kind (L/min, m³/h, mm/h)",
            m.unit
        ),
    );
    for (key, v) in [("interval_s", m.interval_s), ("persist_s", m.persist_s)] {
        r.check(
            (1..=MAX_METER_S).contains(&v),
            &at(key),
            format!("{v} is out of range (1-{MAX_METER_S} s)"),
        );
    }
    if let Some(class) = &m.device_class {
        r.check(
            accepts(class, &m.unit, "total_increasing"),
            &at("device_class"),
            format!(
                "Home Assistant does not accept a `{class}` total in `{}` (see its sensor \
                 device classes: energy in kWh/Wh/…, water in L/m³/…, gas in m³/ft³/CCF)",
                m.unit
            ),
        );
    }
}

/// Refuses what only a remote patch may say: `meter.reset` in the config file would zero the
/// total at every start.
pub(super) fn validate_file(inputs: &[InputConfig], r: &mut Refusals) {
    for (i, input) in inputs.iter().enumerate() {
        r.check(
            !input.meter.as_ref().is_some_and(|m| m.reset),
            &format!("inputs[{i}].meter.reset"),
            "an action for a remote patch (it zeroes the total once); in the config file it \
             would zero it at every start"
                .into(),
        );
    }
}

/// Takes the one-off `meter.reset` actions out of `inputs` (they are not settings to keep in
/// force or persist), returning the pins they name.
pub(super) fn take_resets(inputs: &mut [InputConfig]) -> Vec<u8> {
    let mut pins = Vec::new();
    for input in inputs {
        if let Some(m) = input.meter.as_mut().filter(|m| m.reset) {
            m.reset = false;
            pins.push(input.pin);
        }
    }
    pins
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
