//! The remote-config controller: takes `config/set` messages from the publisher, checks them
//! ([`RemoteConfig::handle`]), applies accepted ones live (the sampling thread between two
//! blocks, the publisher for connection changes, with rollback), persists the remote layer, and
//! answers on `config/result`. It runs as its own task so nothing here ever waits in the
//! sampling path.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Duration;

use serde_json::json;
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::sampling::Update;
use crate::config::FieldError;
use crate::config::{
    self, result_json, result_json_kept, Accepted, Handled, MqttConfig, Rejected, RemoteConfig,
};
use crate::mqtt::{Command, ControlHandle, Inbound};
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::wire::{Description, DeviceInfo, Inventory};

/// How long the sampling thread may take to switch (it does so between two blocks).
const SAMPLING_REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The controller's state.
pub(super) struct Controller {
    pub(super) remote: RemoteConfig,
    pub(super) state_dir: PathBuf,
    pub(super) link: ControlHandle,
    pub(super) sampling: Sender<Update>,
    /// Reconnects asked of the publisher so far (matches [`crate::mqtt::LinkState::generation`]).
    pub(super) generation: u64,
    /// The process as `info` and discovery describe it (the board follows sampler changes).
    pub(super) device: DeviceInfo,
    /// The agent's counters (patches not persisted).
    pub(super) stats: std::sync::Arc<Stats>,
    /// The MQTT 5 Response Topic of the message being handled: its result goes there too.
    pub(super) reply: Option<crate::mqtt::Reply>,
}

impl Controller {
    /// Handles messages until the publisher or the agent stops.
    pub(super) async fn run(mut self, shutdown: Shutdown) {
        self.publish_config().await;
        loop {
            let msg = tokio::select! {
                m = self.link.inbound.recv() => m,
                _ = shutdown.wait() => None,
            };
            let Some(msg) = msg else { return };
            self.handle(msg).await;
        }
    }

    async fn handle(&mut self, msg: Inbound) {
        let mut ack = msg.ack;
        self.reply = msg.reply.clone();
        match self.remote.handle_on(&msg.payload, msg.retained, msg.group) {
            Handled::Stale { version } => {
                debug!(topic = %msg.topic, version, "retained patch already applied; skipped");
            }
            Handled::Rejected(r) => self.reject(&msg.topic, r).await,
            Handled::Accepted(a) => {
                // A connection change leaves this connection: acknowledge the patch on it first,
                // or the broker would deliver it again after a rollback, and again.
                if a.changes.mqtt_reconnect {
                    if let Some(ack) = ack.take() {
                        self.send(Command::Done(ack)).await;
                    }
                }
                self.apply(&msg.topic, a).await
            }
        }
        // Only now: a patch not yet handled stays with the broker if the agent stops.
        if let Some(ack) = ack {
            self.send(Command::Done(ack)).await;
        }
        self.reply = None;
    }

    async fn reject(&mut self, topic: &str, r: Rejected) {
        // The field only: a reason may quote the refused value, which may be a secret.
        warn!(%topic, field = %r.error.field, request = ?r.request, "config patch rejected");
        self.send(Command::Result(result_json(&Err(r)))).await;
    }

    /// Applies an accepted patch: connection first (it may roll back), then the sampling side,
    /// then commit, persist and answer.
    async fn apply(&mut self, topic: &str, a: Accepted) {
        let c = &a.changes;
        let old_mqtt = self.remote.config().mqtt.clone();
        if c.mqtt_reconnect {
            if let Err(reason) = self.switch_connection(&old_mqtt, &a.config.mqtt).await {
                self.rolled_back(&a, reason).await;
                return;
            }
        } else if c.mqtt_tuning {
            self.send(Command::Tune(a.config.mqtt.clone())).await;
        }
        if c.spool_changed {
            self.send(Command::Spool(a.config.spool.clone())).await;
        }
        if c.stats_changed {
            self.send(Command::Stats(a.config.stats.clone())).await;
        }
        let sampling = !c.pins_added.is_empty()
            || !c.pins_removed.is_empty()
            || !c.filters_changed.is_empty()
            || !c.limits_changed.is_empty()
            || !c.pulls_changed.is_empty()
            || !c.meters_changed.is_empty()
            || !c.meters_reset.is_empty()
            || !c.publishing_changed.is_empty()
            || c.sampler_restart
            || c.batch_changed;
        if sampling {
            match self.update_sampling(&a).await {
                Ok(model) => {
                    self.device.model = model;
                    self.device.backend = a.config.sampler.backend.name().into();
                }
                Err(reason) => {
                    if c.mqtt_reconnect {
                        self.reconnect(&old_mqtt).await;
                    }
                    let r = Rejected {
                        request: a.request.clone(),
                        error: FieldError::new("sampler", reason),
                    };
                    self.reject(topic, r).await;
                    return;
                }
            }
        }
        self.remote.commit(&a);
        info!(%topic, version = a.version, request = ?a.request, changes = ?a.changes,
            "config patch applied");
        let not_persisted = self.persist().err();
        if not_persisted.is_some() {
            Stats::add(&self.stats.patches_not_persisted, 1);
        }
        self.publish_config().await;
        self.describe().await;
        let reply = result_json_kept(&Ok(a), not_persisted.as_deref());
        self.send(Command::Result(reply)).await;
    }

    /// Reconnects with `new` and keeps it only once the new connection proves itself (every
    /// subscription granted, the probe published under the new topics back on the device's own
    /// subscription); otherwise goes back to `old`, at the latest after `old.rollback_after_s`
    /// (the limit in force when the change was asked for), and says why.
    async fn switch_connection(
        &mut self,
        old: &MqttConfig,
        new: &MqttConfig,
    ) -> Result<(), String> {
        let limit = Duration::from_secs(old.rollback_after_s);
        let broker = new.broker();
        info!(%broker, prefix = %new.topic_prefix, ?limit, "switching MQTT connection");
        self.reconnect(new).await;
        let generation = self.generation;
        let wait = self
            .link
            .link
            .wait_for(|l| l.generation == generation && l.proof.is_some());
        let proof = match tokio::time::timeout(limit, wait).await {
            Ok(Ok(l)) => l.proof.clone(),
            _ => None,
        };
        let reason = match proof {
            Some(Ok(())) => return Ok(()),
            Some(Err(why)) => format!("{why} (broker {broker}, prefix `{}`)", new.topic_prefix),
            None if self.link.link.borrow().connected => format!(
                "broker {broker} connected, but the probe published under `{}` did not come \
                 back within {} s: the broker discards what the device publishes there (ACL?)",
                new.topic_prefix, old.rollback_after_s
            ),
            None => format!(
                "broker {broker} not reached within {} s",
                old.rollback_after_s
            ),
        };
        warn!(%broker, ?limit, %reason, "new MQTT settings not proven; rolling back");
        self.reconnect(old).await;
        Err(format!("{reason}; previous settings restored"))
    }

    async fn reconnect(&mut self, cfg: &MqttConfig) {
        self.generation += 1;
        self.send(Command::Reconnect(cfg.clone())).await;
    }

    /// Reports a connection change that was undone; the config in force stays as it was.
    async fn rolled_back(&mut self, a: &Accepted, reason: String) {
        error!(version = self.remote.version(), request = ?a.request, %reason,
            "config patch rolled back");
        // Nothing changed, but say so on disk too: the restored state is what a restart uses.
        let _ = self.persist();
        let mut reply = json!({
            "ok": false,
            "rolled_back": true,
            "version": self.remote.version(),
            "error": FieldError::new("mqtt", reason),
        });
        if let Some(r) = &a.request {
            reply["request"] = json!(r);
        }
        self.send(Command::Result(reply.to_string())).await;
    }

    /// Hands the new config to the sampling thread and waits until it runs with it; the
    /// running sampler's model on success.
    async fn update_sampling(&mut self, a: &Accepted) -> Result<String, String> {
        let (reply, done) = oneshot::channel();
        let update = Update {
            config: a.config.clone(),
            changes: a.changes.clone(),
            reply,
        };
        self.sampling
            .send(update)
            .map_err(|_| "sampling has stopped".to_string())?;
        match tokio::time::timeout(SAMPLING_REPLY_TIMEOUT, done).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("sampling has stopped".into()),
            Err(_) => Err(format!(
                "the sampling thread did not take the change within {SAMPLING_REPLY_TIMEOUT:?}"
            )),
        }
    }

    /// Writes the remote layer; why not, if it could not be (logged here).
    fn persist(&self) -> Result<(), String> {
        config::save(&self.state_dir, &self.remote).map_err(|e| {
            error!(error = %e, "remote config not persisted: a restart would lose it");
            e.to_string()
        })
    }

    async fn publish_config(&mut self) {
        match self.remote.effective_json() {
            Ok(json) => self.send(Command::SetConfig(json)).await,
            Err(e) => error!(error = %e, "cannot encode the config in force"),
        }
    }

    /// Tells the publisher what `info` and discovery show now.
    async fn describe(&mut self) {
        let inventory = Inventory::from_config(self.remote.config(), self.remote.version());
        let d = Description {
            device: self.device.clone(),
            inventory,
        };
        self.send(Command::Describe(Box::new(d))).await;
    }

    async fn send(&self, cmd: Command) {
        if let (Command::Result(payload), Some(reply)) = (&cmd, &self.reply) {
            let response = Command::Response(payload.clone(), reply.clone());
            if self.link.commands.send(response).await.is_err() {
                debug!("publisher stopped; remote config response dropped");
            }
        }
        if self.link.commands.send(cmd).await.is_err() {
            debug!("publisher stopped; remote config command dropped");
        }
    }
}
