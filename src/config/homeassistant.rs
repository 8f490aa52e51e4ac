//! The `[homeassistant]` section: Home Assistant MQTT discovery.

use super::changeset::ChangeSet;
use super::error::Refusals;
use super::topic::prefix_problem;
use serde::{Deserialize, Serialize};

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

impl HomeAssistantConfig {
    /// Checks the section's rules.
    pub(super) fn validate(&self, r: &mut Refusals) {
        if let Some(why) = prefix_problem(&self.prefix) {
            r.check(false, "homeassistant.prefix", why);
        }
    }

    /// What going from `self` to `new` means. Every key is named: a new one does not compile
    /// until its change is classified here.
    pub(super) fn classify(&self, new: &HomeAssistantConfig, c: &mut ChangeSet) {
        let HomeAssistantConfig { enabled, prefix } = self;
        // Discovery is republished under the new settings (or removed).
        c.homeassistant_changed |= *enabled != new.enabled || *prefix != new.prefix;
    }
}
