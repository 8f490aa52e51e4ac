//! The agent: one sampling thread (sampler → pipeline → batcher → queue) and the publisher task,
//! joined by a bounded queue so the network never blocks sampling.

use std::sync::Arc;

use tracing::{info, warn};

use crate::config::Config;
use crate::edges::batch::Batcher;
use crate::mqtt::{self, EmbeddedBroker, MqttError};
use crate::pipeline::Pipeline;
use crate::queue::{DropOldestQueue, Outgoing};
use crate::sampler::{self, Block, Sampler, SamplerError};
use crate::shutdown::Shutdown;
use crate::stats::Stats;

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
}

/// A random id for this process's run: consumers tell restarts apart by it.
pub fn new_run_id() -> u64 {
    crate::mqtt::backoff::os_random()
}

/// Runs the agent until the signal ends (non-looping replay) or `shutdown` is triggered, then
/// flushes, publishes `offline` and disconnects.
pub async fn run(config: Config, shutdown: Shutdown, stats: Arc<Stats>) -> Result<(), AgentError> {
    let _broker = if config.mqtt.embedded_broker {
        let addr = format!("{}:{}", config.mqtt.host, config.mqtt.port);
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

    let sampler = sampler::open(&config)?;
    let run_id = new_run_id();
    info!(
        device = %config.device_id,
        run = run_id,
        period_us = config.sampler.period_us,
        pins = ?config.pins().collect::<Vec<_>>(),
        "sampling started"
    );
    let block_us = u64::from(config.sampler.period_us) * u64::from(config.sampler.block_samples);
    if block_us > config.batch.max_age_ms * 1000 {
        warn!(
            block_us,
            max_age_ms = config.batch.max_age_ms,
            "a block lasts longer than batch.max_age_ms: batches will be late by up to one block"
        );
    }

    let queue = Arc::new(DropOldestQueue::new(config.batch.queue_batches));
    let sampling = {
        let (queue, stats, shutdown, config) = (
            queue.clone(),
            stats.clone(),
            shutdown.clone(),
            config.clone(),
        );
        std::thread::Builder::new()
            .name("edgetap-sampling".into())
            .spawn(move || {
                let result = sample_until_done(sampler, &config, run_id, &queue, &stats, &shutdown);
                // Always end the queue: the publisher drains it and stops.
                queue.close();
                if result.is_err() {
                    shutdown.trigger();
                }
                result
            })
            .map_err(|e| AgentError::Thread(format!("cannot start sampling thread: {e}")))?
    };

    let published = mqtt::run(
        config.mqtt.clone(),
        config.device_id.clone(),
        queue.clone(),
        stats.clone(),
        shutdown.clone(),
    )
    .await;
    // The publisher only returns once the queue is closed (sampling over) or on shutdown.
    shutdown.trigger();
    let sampled = tokio::task::spawn_blocking(move || sampling.join())
        .await
        .map_err(|e| AgentError::Thread(format!("sampling thread: {e}")))?
        .map_err(|_| AgentError::Thread("sampling thread panicked".into()))?;
    info!(
        batches_sent = Stats::get(&stats.batches_sent),
        batches_dropped = Stats::get(&stats.batches_dropped),
        edges = stats.edges_total(),
        "agent stopped"
    );
    sampled?;
    published?;
    Ok(())
}

/// The sampling thread's loop: blocks in, batches out, until the signal ends or shutdown.
fn sample_until_done(
    mut sampler: Box<dyn Sampler>,
    config: &Config,
    run_id: u64,
    queue: &DropOldestQueue<Outgoing>,
    stats: &Stats,
    shutdown: &Shutdown,
) -> Result<(), SamplerError> {
    let mut pipeline = Pipeline::new(&config.inputs);
    let mut batcher = Batcher::new(
        run_id,
        config.batch.max_edges,
        config.batch.max_age_ms * 1000,
    );
    let mut block = Block::new(sampler.period_us(), sampler.words());
    let mut edges = Vec::new();
    let send = |item: Outgoing| {
        if queue.push(item).is_some() {
            Stats::add(&stats.batches_dropped, 1);
            let dropped = Stats::get(&stats.batches_dropped);
            // Log the 1st, 2nd, 4th, 8th… drop: visible at once, never a flood.
            if dropped.is_power_of_two() {
                warn!(
                    dropped,
                    queue_batches = config.batch.queue_batches,
                    "publisher queue full: oldest batch dropped (its seq will be missing)"
                );
            }
        }
    };
    while !shutdown.is_triggered() && sampler.next_block(&mut block, shutdown)? {
        Stats::add(&stats.samples, block.samples() as u64);
        edges.clear();
        let events = pipeline.process(&block, &mut edges);
        if let Some(levels) = events.initial {
            batcher.set_levels(&levels);
            send(Outgoing::Levels(levels));
        }
        if let Some(gap) = events.gap {
            warn!(
                from_us = gap.from_us,
                to_us = gap.to_us,
                samples = gap.samples,
                "samples lost"
            );
            Stats::add(&stats.samples_lost, gap.samples);
            batcher.push_gap(gap);
        }
        for &e in &edges {
            Stats::add(&stats.edges_per_pin[usize::from(e.pin) % 64], 1);
            if let Some(batch) = batcher.push(e) {
                Stats::add(&stats.batches_closed, 1);
                send(Outgoing::Batch(batch));
            }
        }
        if let Some(now) = pipeline.last_sample_us() {
            if let Some(batch) = batcher.poll(now) {
                Stats::add(&stats.batches_closed, 1);
                send(Outgoing::Batch(batch));
            }
        }
    }
    if let Some(batch) = batcher.flush() {
        Stats::add(&stats.batches_closed, 1);
        send(Outgoing::Batch(batch));
    }
    Ok(())
}
