//! The sampling thread: sampler → pipeline → batcher → queue, block after block. New configs
//! arrive on a channel that is checked between blocks, so the network never blocks sampling and
//! a change applies exactly between two blocks: only what changed is rebuilt.

use std::sync::mpsc::{Receiver, TryRecvError};

use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::block::{Block, LevelWords};
use crate::config::{ChangeSet, Config};
use crate::edges::batch::Batcher;
use crate::edges::{Edge, RateLimited, MAX_PIN};
use crate::pipeline::Pipeline;
use crate::queue::{DropOldestQueue, Outgoing};
use crate::sampler::{self, Sampler, SamplerCounters, SamplerError};
use crate::shutdown::Shutdown;
use crate::stats::Stats;

/// A new config for the sampling thread, and what changed; the reply says whether it runs.
#[derive(Debug)]
pub struct Update {
    /// The config to switch to (already validated).
    pub config: Config,
    /// What differs from the config in force.
    pub changes: ChangeSet,
    /// `Ok(model)` once the thread runs with it (the running sampler's
    /// [`Sampler::model`]); `Err(reason)` if the new sampler could not start (the old config
    /// then stays in force).
    pub reply: oneshot::Sender<Result<String, String>>,
}

/// What the sampling thread works with.
pub(super) struct Sampling<'a> {
    pub(super) config: Config,
    pub(super) run_id: u64,
    pub(super) queue: &'a DropOldestQueue<Outgoing>,
    pub(super) stats: &'a Stats,
    pub(super) shutdown: &'a Shutdown,
    pub(super) updates: Receiver<Update>,
}

/// The sampler and the stages after it: the state that lives across blocks.
struct SamplingState {
    sampler: Box<dyn Sampler>,
    pipeline: Pipeline,
    batcher: Batcher,
    block: Block,
    edges: Vec<Edge>,
    /// The sampler's trouble counters already added to the stats.
    counted: SamplerCounters,
    /// Edges dropped by each pin's rate limit so far (index = pin), to log a flood sparingly.
    limited: [u64; MAX_PIN as usize + 1],
}

impl Sampling<'_> {
    /// Blocks in, batches out, until the signal ends or shutdown.
    pub(super) fn run(mut self, sampler: Box<dyn Sampler>) -> Result<(), SamplerError> {
        let c = &self.config;
        let mut state = SamplingState {
            block: Block::new(sampler.period_us(), sampler.words()),
            sampler,
            pipeline: Pipeline::new(&c.inputs),
            batcher: {
                let mut b = Batcher::new(self.run_id, c.batch.max_edges, c.batch.max_age_ms * 1000);
                let _ = b.set_max_bytes(c.batch.max_bytes); // nothing is open yet
                b
            },
            edges: Vec::new(),
            counted: SamplerCounters::default(),
            limited: [0; MAX_PIN as usize + 1],
        };
        loop {
            self.take_updates(&mut state);
            if self.shutdown.is_triggered()
                || !state.sampler.next_block(&mut state.block, self.shutdown)?
            {
                break;
            }
            self.process(&mut state);
        }
        if let Some(batch) = state.batcher.flush() {
            self.send_batch(batch);
        }
        Ok(())
    }

    fn process(&self, state: &mut SamplingState) {
        let now = state.sampler.counters();
        let (restarts, overruns) = (now.restarts, now.overruns);
        Stats::add(
            &self.stats.dma_restarts,
            restarts.saturating_sub(state.counted.restarts),
        );
        Stats::add(
            &self.stats.overruns,
            overruns.saturating_sub(state.counted.overruns),
        );
        Stats::add(
            &self.stats.dma_late_blocks,
            now.late_blocks.saturating_sub(state.counted.late_blocks),
        );
        Stats::add(
            &self.stats.dma_stalls,
            now.stalls.saturating_sub(state.counted.stalls),
        );
        state.counted = now;
        let SamplingState {
            pipeline,
            batcher,
            block,
            edges,
            limited,
            ..
        } = state;
        Stats::add(&self.stats.samples, block.samples() as u64);
        edges.clear();
        let events = pipeline.process(block, edges);
        if let Some(levels) = events.initial {
            batcher.set_levels(&levels);
            self.send(Outgoing::Levels(levels));
        }
        if let Some(gap) = events.gap {
            warn!(
                from_us = gap.from_us,
                to_us = gap.to_us,
                samples = gap.samples,
                "samples lost"
            );
            Stats::add(&self.stats.samples_lost, gap.samples);
            batcher.push_gap(gap);
        }
        for &e in edges.iter() {
            self.push_edge(batcher, e);
        }
        if let Some(now) = pipeline.last_sample_us() {
            // Counted at the end of the block, into the batch open then.
            for &r in pipeline.rate_limited() {
                self.note_rate_limited(limited, r);
                batcher.push_rate_limited(r, now);
            }
            if let Some(batch) = batcher.poll(now) {
                self.send_batch(batch);
            }
        }
    }

    /// Counts edges a pin's rate limit dropped, and logs when its total first passes 1, 2, 4,
    /// 8…: a flood is visible at once without flooding the log.
    fn note_rate_limited(&self, totals: &mut [u64; MAX_PIN as usize + 1], r: RateLimited) {
        Stats::add(&self.stats.rate_limited, r.edges);
        if let Some(per_pin) = self.stats.rate_limited_per_pin.get(usize::from(r.pin)) {
            Stats::add(per_pin, r.edges);
        }
        let Some(total) = totals.get_mut(usize::from(r.pin)) else {
            return;
        };
        let before = *total;
        *total += r.edges;
        if before == 0 || before.ilog2() != total.ilog2() {
            let limit = self.config.inputs.iter().find(|i| i.pin == r.pin);
            warn!(
                pin = r.pin,
                dropped = *total,
                max_edges_per_s = limit.map(|i| i.max_edges_per_s),
                "input over its rate limit: edges dropped (rate_limited in the batches)"
            );
        }
    }

    fn push_edge(&self, batcher: &mut Batcher, e: Edge) {
        Stats::add(&self.stats.edges_per_pin[usize::from(e.pin) % 64], 1);
        if let Some(batch) = batcher.push(e) {
            self.send_batch(batch);
        }
    }

    /// Applies every update waiting, without waiting for one.
    fn take_updates(&mut self, state: &mut SamplingState) {
        loop {
            match self.updates.try_recv() {
                Ok(u) => {
                    let result = self
                        .apply(state, u.config, &u.changes)
                        .map(|()| state.sampler.model());
                    // The controller may have given up waiting: nothing to tell then.
                    let _ = u.reply.send(result);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }

    /// Switches to `config`, rebuilding only what `changes` names.
    fn apply(
        &mut self,
        state: &mut SamplingState,
        config: Config,
        changes: &ChangeSet,
    ) -> Result<(), String> {
        let words = LevelWords::for_pins(config.pins());
        if changes.sampler_restart || words != state.sampler.words() {
            // Open the new sampler first: if it cannot start, the old one keeps running.
            let new = sampler::open(&config).map_err(|e| e.to_string())?;
            state.block = Block::new(new.period_us(), new.words());
            state.sampler = new;
            state.counted = SamplerCounters::default();
            state.pipeline.mark_restart();
            info!(
                period_us = config.sampler.period_us,
                block_samples = config.sampler.block_samples,
                "sampler restarted with new settings"
            );
        }
        state.edges.clear();
        let added = state
            .pipeline
            .reconfigure(&config.inputs, changes, &mut state.edges);
        for &pin in &changes.pins_removed {
            state.batcher.forget_pin(pin);
        }
        if !changes.pins_removed.is_empty() {
            self.send(Outgoing::Removed(changes.pins_removed.clone()));
        }
        if !added.is_empty() {
            state.batcher.set_levels(&added);
            self.send(Outgoing::Levels(added));
        }
        for &e in &state.edges {
            self.push_edge(&mut state.batcher, e);
        }
        if changes.batch_changed {
            let b = &config.batch;
            if let Some(batch) = state.batcher.set_limits(b.max_edges, b.max_age_ms * 1000) {
                self.send_batch(batch);
            }
            if let Some(batch) = state.batcher.set_max_bytes(b.max_bytes) {
                self.send_batch(batch);
            }
            self.queue.set_capacity(b.queue_batches);
        }
        self.config = config;
        Ok(())
    }

    fn send_batch(&self, batch: crate::edges::batch::Batch) {
        Stats::add(&self.stats.batches_closed, 1);
        self.send(Outgoing::Batch(batch));
    }

    fn send(&self, item: Outgoing) {
        if self.queue.push(item).is_some() {
            Stats::add(&self.stats.batches_dropped, 1);
            let dropped = Stats::get(&self.stats.batches_dropped);
            // Log the 1st, 2nd, 4th, 8th… drop: visible at once, never a flood.
            if dropped.is_power_of_two() {
                warn!(
                    dropped,
                    queue_batches = self.config.batch.queue_batches,
                    "publisher queue full: oldest batch dropped (its seq will be missing)"
                );
            }
        }
    }
}
