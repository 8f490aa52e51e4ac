//! The agent: one sampling thread (sampler → pipeline → batcher → queue) and the publisher task,
//! joined by a bounded queue so the network never blocks sampling; plus the remote-config
//! controller, which hands new configs to both.
//!
//! * [`sampling`]: the sampling thread, taking new configs between blocks.
//! * [`control`]: `config/set` → check → apply live → persist → `config/result`.
//! * `notify`: readiness, watchdog keep-alives and status for systemd.
//!
//! Once the sampler is open (hardware mapped, memory allocated) and before any thread of its
//! own starts, the agent gives up privilege ([`crate::privilege`]).

mod control;
mod notify;
pub mod sampling;

use std::sync::Arc;

use tracing::{info, warn};

use crate::config::{self, Config, RemoteConfig};
use crate::liveness::Heartbeats;
use crate::mqtt::{self, EmbeddedBroker, MqttError};
use crate::queue::DropOldestQueue;
use crate::sampler::{self, SamplerError};
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::wire::{Description, DeviceInfo, Inventory};

/// Why the agent stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The sampler could not start or failed while running.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// The broker side failed (embedded broker start, publisher).
    #[error(transparent)]
    Mqtt(#[from] MqttError),
    /// A setting cannot be used as given.
    #[error("{0}")]
    Config(String),
    /// A thread could not be started or died.
    #[error("{0}")]
    Thread(String),
    /// Privilege could not be given up after set-up.
    #[error("giving up privilege after set-up: {0}")]
    Privilege(#[from] crate::privilege::PrivilegeError),
}

/// The largest run id: 2^53 − 1, the largest integer a JSON consumer reading numbers as doubles
/// (JavaScript, Node-RED, Home Assistant templates in the browser) holds exactly.
pub const MAX_RUN_ID: u64 = (1 << 53) - 1;

/// A random id for this process's run, 1 ..= [`MAX_RUN_ID`]: consumers tell restarts apart by it.
pub fn new_run_id() -> u64 {
    (crate::random::os_random() & MAX_RUN_ID).max(1)
}

/// UTC µs now (0 if the clock is before 1970).
fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Runs the agent until the signal ends (non-looping replay) or `shutdown` is triggered, then
/// flushes, publishes `offline` and disconnects.
///
/// `config` is the file config; the remote layer persisted in its `state_dir` goes over it.
pub async fn run(config: Config, shutdown: Shutdown, stats: Arc<Stats>) -> Result<(), AgentError> {
    let remote = match config::overlay(config.clone(), &config.state_dir) {
        Ok(remote) => remote,
        Err(e) => {
            warn!(error = %e, "persisted remote config unreadable; using the file config");
            RemoteConfig::new(config)
        }
    };
    let config = remote.config().clone();
    let _broker = if config.mqtt.embedded_broker {
        let addr = format!("{}:{}", config.mqtt.host, config.mqtt.port());
        let addr = addr.parse().map_err(|_| {
            AgentError::Config(format!(
                "mqtt.host/mqtt.port: `{addr}` is not a socket address to listen on"
            ))
        })?;
        let broker = EmbeddedBroker::start(addr)?;
        info!(addr = %broker.addr(), "embedded broker listening");
        Some(broker)
    } else {
        None
    };

    let sampler = sampler::open_source(&config)?;
    give_up_privilege(&config)?;
    let run_id = new_run_id();
    let device = DeviceInfo::new(
        config.device_id.clone(),
        sampler.model(),
        config.sampler.backend.name(),
        run_id,
        now_us(),
    );
    let description = Description {
        device: device.clone(),
        inventory: Inventory::from_config(&config, remote.version()),
    };
    info!(
        device = %config.device_id,
        run = run_id,
        period_us = config.sampler.period_us,
        pins = ?config.pins().collect::<Vec<_>>(),
        config_version = remote.version(),
        "sampling started"
    );
    let block_us = config.sampler.block_us();
    if block_us > config.batch.max_age_ms * 1000 {
        warn!(
            block_us,
            max_age_ms = config.batch.max_age_ms,
            "a block lasts longer than batch.max_age_ms: batches will be late by up to one block"
        );
    }

    let queue = Arc::new(DropOldestQueue::new(config.batch.queue_batches));
    let (updates_tx, updates) = std::sync::mpsc::channel();
    let beats = Arc::new(Heartbeats::default());
    let sampling = {
        let (queue, stats, shutdown, config, beats) = (
            queue.clone(),
            stats.clone(),
            shutdown.clone(),
            config.clone(),
            beats.clone(),
        );
        std::thread::Builder::new()
            .name("edgetap-sampling".into())
            .spawn(move || {
                let result = sampling::Sampling {
                    config,
                    run_id,
                    queue: &queue,
                    stats: &stats,
                    shutdown: &shutdown,
                    updates,
                    beats: &beats,
                }
                .run(sampler);
                // Always end the queue: the publisher drains it and stops.
                queue.close();
                if result.is_err() {
                    shutdown.trigger();
                }
                result
            })
            .map_err(|e| AgentError::Thread(format!("cannot start sampling thread: {e}")))?
    };

    let (link, handle) = mqtt::control_channel(config.groups.clone());
    let controller = control::Controller {
        state_dir: config.state_dir.clone(),
        remote,
        link: handle,
        sampling: updates_tx,
        generation: 0,
        device,
        stats: stats.clone(),
        reply: None,
    };
    let controller = tokio::spawn(controller.run(shutdown.clone()));
    let manager = notify::ServiceManager::from_env();
    let notifier = manager.map(|m| {
        tokio::spawn(notify::run(
            m,
            beats.clone(),
            stats.clone(),
            config.pins().collect(),
            shutdown.clone(),
        ))
    });
    let mut publishing = mqtt::Publishing::new(
        config.mqtt.clone(),
        config.device_id.clone(),
        queue.clone(),
        stats.clone(),
        shutdown.clone(),
    );
    if let Some(m) = manager {
        publishing = publishing.heartbeat(beats.clone(), m.poll() / 2);
    }
    let published = publishing
        .control(link)
        .state(config.state_dir.clone(), config.spool.clone())
        .stats(run_id, config.stats.clone())
        .describe(description)
        .run()
        .await;
    controller.abort();
    // The publisher only returns once the queue is closed (sampling over) or on shutdown.
    shutdown.trigger();
    if let Some(n) = notifier {
        // It stops at the shutdown, after saying STOPPING=1.
        let _ = n.await;
    }
    let sampled = tokio::task::spawn_blocking(move || sampling.join())
        .await
        .map_err(|e| AgentError::Thread(format!("sampling thread: {e}")))?
        .map_err(|_| AgentError::Thread("sampling thread panicked".into()))?;
    info!(
        samples = Stats::get(&stats.samples),
        samples_lost = Stats::get(&stats.samples_lost),
        edges_lost = Stats::get(&stats.edges_lost),
        overruns = Stats::get(&stats.overruns),
        batches_sent = Stats::get(&stats.batches_sent),
        batches_dropped = Stats::get(&stats.batches_dropped),
        batches_spooled = Stats::get(&stats.batches_spooled),
        batches_replayed = Stats::get(&stats.batches_replayed),
        spool_dropped = Stats::get(&stats.spool_dropped),
        spool_errors = Stats::get(&stats.spool_errors),
        spool_torn = Stats::get(&stats.spool_torn),
        spool_pending = Stats::get(&stats.spool_pending),
        rate_limited = Stats::get(&stats.rate_limited),
        edges = stats.edges_total(),
        "agent stopped"
    );
    sampled?;
    published?;
    Ok(())
}

/// Switches to `run_as` and drops every capability, now that the hardware is mapped and the
/// memory allocated; then checks `state_dir` is still writable (the spool and the remote config
/// are written there from now on, as the new user).
fn give_up_privilege(config: &Config) -> Result<(), AgentError> {
    let dropped = crate::privilege::drop_privileges(config.run_as.as_deref())?;
    let (uid, user) = crate::privilege::current_user();
    info!(
        uid,
        user = user.as_deref().unwrap_or("?"),
        bounding_set_cleared = dropped.bounding_cleared,
        "set-up done: running without capabilities"
    );
    for (name, tid) in crate::privilege::privileged_threads() {
        warn!(
            thread = %name,
            tid,
            "a thread started before the drop still holds capabilities"
        );
    }
    if dropped.user.is_some() {
        let probe = config
            .state_dir
            .join(format!(".edgetap-write-test-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(|e| {
            AgentError::Config(format!(
                "state_dir {}: not writable by run_as user {} ({e}); chown it to that user",
                config.state_dir.display(),
                user.as_deref().unwrap_or("?")
            ))
        })?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
