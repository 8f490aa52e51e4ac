//! The publisher task as the agent starts it: [`Publishing`] gathers what it needs (broker
//! settings, the queue, the controller, `state_dir`, stats, the device description) and
//! [`Publishing::run`] runs it until the queue is closed and drained.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::control::ControlLink;
use super::error::MqttError;
use super::shell::{serve, Setup, DRAIN_TIMEOUT};
use crate::config::{MqttConfig, SpoolConfig, StatsConfig};
use crate::liveness::Heartbeats;
use crate::queue::{DropOldestQueue, Outgoing};
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::wire::Description;

/// Everything the publisher task needs; [`Publishing::run`] runs it.
pub struct Publishing {
    setup: Setup,
}

impl Publishing {
    /// A publisher of `queue` to the broker of `cfg`, without controller or spool.
    pub fn new(
        cfg: MqttConfig,
        device_id: String,
        queue: Arc<DropOldestQueue<Outgoing>>,
        stats: Arc<Stats>,
        shutdown: Shutdown,
    ) -> Self {
        Publishing {
            setup: Setup {
                cfg,
                device_id,
                queue,
                stats,
                shutdown,
                drain_timeout: DRAIN_TIMEOUT,
                control: None,
                state: None,
                stats_cfg: None,
                description: None,
                heartbeat: None,
            },
        }
    }

    /// How long after shutdown delivery is still tried (default [`DRAIN_TIMEOUT`]).
    pub fn drain_timeout(mut self, d: Duration) -> Self {
        self.setup.drain_timeout = d;
        self
    }

    /// Attaches the remote-config controller: subscribes to the `config/set` topics, publishes
    /// the retained `config` and the results, and reconnects when told to.
    pub fn control(mut self, link: ControlLink) -> Self {
        self.setup.control = Some(link);
        self
    }

    /// Keeps state in `state_dir`: the spool of unacknowledged batches (when `spool.enabled`)
    /// and the records of what the device owns on the broker (`presence`).
    pub fn state(mut self, state_dir: PathBuf, spool: SpoolConfig) -> Self {
        self.setup.state = Some((state_dir, spool));
        self
    }

    /// Publishes the `stats` message of run `run` every `cfg.interval_s` while connected, the
    /// first one interval after the start.
    pub fn stats(mut self, run: u64, cfg: StatsConfig) -> Self {
        self.setup.stats_cfg = Some((run, cfg));
        self
    }

    /// Describes the device: the retained `info` and, with `homeassistant.enabled`, Home
    /// Assistant discovery (updated by [`Command::Describe`](super::Command::Describe)).
    pub fn describe(mut self, d: Description) -> Self {
        self.setup.description = Some(d);
        self
    }

    /// Beats `beats` on every round of its loop, and at least every `every` while idle (the
    /// service watchdog's proof that the publisher is not stuck).
    pub fn heartbeat(mut self, beats: Arc<Heartbeats>, every: Duration) -> Self {
        self.setup.heartbeat = Some((beats, every));
        self
    }

    /// Publishes what arrives on the queue until it is closed and drained (or shutdown was
    /// triggered more than the drain timeout ago), then publishes `offline` and disconnects.
    pub async fn run(self) -> Result<(), MqttError> {
        serve(self.setup).await
    }
}

/// Publishes what arrives on `queue` until it is closed and drained (or `shutdown` was triggered
/// more than [`DRAIN_TIMEOUT`] ago), then publishes `offline` and disconnects.
pub async fn run(
    cfg: MqttConfig,
    device_id: String,
    queue: Arc<DropOldestQueue<Outgoing>>,
    stats: Arc<Stats>,
    shutdown: Shutdown,
) -> Result<(), MqttError> {
    Publishing::new(cfg, device_id, queue, stats, shutdown)
        .run()
        .await
}

#[cfg(test)]
#[path = "publishing_tests.rs"]
mod tests;
