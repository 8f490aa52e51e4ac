//! The `[stats]` section: the periodic `<prefix>/<id>/stats` message.

use super::changeset::ChangeSet;
use super::error::Refusals;
use serde::{Deserialize, Serialize};

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

impl StatsConfig {
    /// Checks the section's rules.
    pub(super) fn validate(&self, r: &mut Refusals) {
        r.check(
            (1..=3600).contains(&self.interval_s),
            "stats.interval_s",
            format!("{} is out of range (1-3600 s)", self.interval_s),
        );
    }

    /// What going from `self` to `new` means. Every key is named: a new one does not compile
    /// until its change is classified here.
    pub(super) fn classify(&self, new: &StatsConfig, c: &mut ChangeSet) {
        let StatsConfig { interval_s } = self;
        // The reporter re-arms its timer.
        c.stats_changed |= *interval_s != new.interval_s;
    }
}
