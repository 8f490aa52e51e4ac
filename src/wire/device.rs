//! What the agent says about itself: the running process ([`DeviceInfo`]), what the config in
//! force watches ([`Inventory`]), and the retained `<prefix>/<id>/info` payload built from both.
//! Home Assistant discovery (`discovery.rs`) is built from the same [`Description`].

use serde_json::json;

use crate::config::{Config, HomeAssistantConfig};
use crate::stats::SpoolHealth;

/// Schema version of the `info` payload.
pub const INFO_SCHEMA: u32 = 1;

/// The running process: fixed at start, except the board after a sampler change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `device_id` (already validated to `[A-Za-z0-9_-]{1,64}`).
    pub device_id: String,
    /// edgetap's version (the crate version).
    pub sw_version: String,
    /// What is sampled, as the sampler's `model()` names it.
    pub model: String,
    /// `sampler.backend` of the running sampler.
    pub backend: String,
    /// This process's run id (as in every batch).
    pub run: u64,
    /// UTC µs when the process started sampling.
    pub started_us: u64,
}

impl DeviceInfo {
    /// The process of `device_id` sampling `model` with `backend`, version = this crate's.
    pub fn new(
        device_id: impl Into<String>,
        model: impl Into<String>,
        backend: impl Into<String>,
        run: u64,
        started_us: u64,
    ) -> Self {
        DeviceInfo {
            device_id: device_id.into(),
            sw_version: env!("CARGO_PKG_VERSION").into(),
            model: model.into(),
            backend: backend.into(),
            run,
            started_us,
        }
    }
}

/// One watched input, as discovery and `info` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// BCM GPIO number.
    pub pin: u8,
    /// `inputs[].name`; empty: unnamed.
    pub name: String,
    /// `inputs[].device_class` (a Home Assistant binary_sensor class).
    pub device_class: Option<String>,
}

/// What the config in force says that `info` and discovery show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// The version published on `config` (0: the file config).
    pub config_version: u64,
    /// Watched inputs, ascending by pin.
    pub inputs: Vec<InputInfo>,
    /// `[homeassistant]`.
    pub homeassistant: HomeAssistantConfig,
    /// `sampler.period_us`.
    pub period_us: u32,
    /// `stats.interval_s`.
    pub stats_interval_s: u64,
    /// `groups`.
    pub groups: Vec<String>,
}

impl Inventory {
    /// The inventory of `config`, in force at `version`.
    pub fn from_config(config: &Config, version: u64) -> Self {
        let mut inputs: Vec<InputInfo> = config
            .inputs
            .iter()
            .map(|i| InputInfo {
                pin: i.pin,
                name: i.name.clone(),
                device_class: i.device_class.clone(),
            })
            .collect();
        inputs.sort_by_key(|i| i.pin);
        Inventory {
            config_version: version,
            inputs,
            homeassistant: config.homeassistant.clone(),
            period_us: config.sampler.period_us,
            stats_interval_s: config.stats.interval_s,
            groups: config.groups.clone(),
        }
    }
}

/// Everything `info` and discovery are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The process.
    pub device: DeviceInfo,
    /// The config in force.
    pub inventory: Inventory,
}

/// The retained `info` payload:
/// `{"v":1,"device":…,"version":…,"board":…,"backend":…,"pins":[…],"inputs":[…],
/// "config_version":N,"run":…,"started_us":…,"period_us":…,"stats_interval_s":…,"groups":[…],
/// "homeassistant":{"enabled":…,"prefix":…},"spool":{"state":"ok","reason":""}}`; `spool` only
/// when the link knows the spool's state (`spool`), so a retained `info` says whether the
/// device can keep data through an outage.
pub fn info_payload(d: &Description, spool: Option<&SpoolHealth>) -> String {
    let (dev, inv) = (&d.device, &d.inventory);
    let inputs: Vec<serde_json::Value> = inv
        .inputs
        .iter()
        .map(|i| {
            let mut v = json!({"pin": i.pin, "name": i.name});
            if let Some(class) = &i.device_class {
                v["device_class"] = json!(class);
            }
            v
        })
        .collect();
    let mut v = json!({
        "v": INFO_SCHEMA,
        "device": dev.device_id,
        "version": dev.sw_version,
        "board": dev.model,
        "backend": dev.backend,
        "pins": inv.inputs.iter().map(|i| i.pin).collect::<Vec<_>>(),
        "inputs": inputs,
        "config_version": inv.config_version,
        "run": dev.run,
        "started_us": dev.started_us,
        "period_us": inv.period_us,
        "stats_interval_s": inv.stats_interval_s,
        "groups": inv.groups,
        "homeassistant": {
            "enabled": inv.homeassistant.enabled,
            "prefix": inv.homeassistant.prefix,
        },
    });
    if let Some(h) = spool {
        v["spool"] = json!({"state": h.state.as_str(), "reason": h.reason});
    }
    v.to_string()
}

#[cfg(test)]
#[path = "device_tests.rs"]
pub(crate) mod tests;
