//! The sampling thread: source → pipeline → batcher → queue, block after block (a sampler) or
//! chunk after chunk (an edge source, which skips the decoder). New configs arrive on a channel
//! that is checked between blocks, so the network never blocks sampling and a change applies
//! exactly between two blocks: only what changed is rebuilt.

use std::sync::mpsc::{Receiver, TryRecvError};

use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::block::{Block, LevelWords};
use crate::config::{ChangeSet, Config};
use crate::edges::batch::Batcher;
use crate::edges::{Edge, EdgeChunk, PinLevel, RateLimited, MAX_PIN};
use crate::liveness::Heartbeats;
use crate::meter::{MeterEvent, MeterInput, Meters};
use crate::pipeline::Pipeline;
use crate::presence::{load_totals, save_totals};
use crate::queue::{DropOldestQueue, Outgoing};
use crate::sampler::{self, SamplerCounters, SamplerError, Source};
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
    /// Beaten every round: the service watchdog's proof that sampling moves.
    pub(super) beats: &'a Heartbeats,
}

/// The source and the stages after it: the state that lives across blocks.
struct SamplingState {
    source: Source,
    pipeline: Pipeline,
    batcher: Batcher,
    /// The last block a sampler filled (unused by an edge source).
    block: Block,
    /// The last chunk an edge source filled (unused by a sampler).
    chunk: EdgeChunk,
    edges: Vec<Edge>,
    /// The sampler's trouble counters already added to the stats.
    counted: SamplerCounters,
    /// Edges dropped by each pin's rate limit so far (index = pin), to log a flood sparingly.
    limited: [u64; MAX_PIN as usize + 1],
    /// The meters and watchdogs, kept across sampler restarts and config changes.
    meters: Meters,
    meter_events: Vec<MeterEvent>,
    /// Pins whose edges stay out of the batches (bit n = GPIO n).
    unbatched: u64,
}

/// What the meters need of `config`.
fn meter_inputs(config: &Config) -> Vec<MeterInput> {
    config
        .inputs
        .iter()
        .map(|i| MeterInput {
            pin: i.pin,
            meter: i.meter.clone(),
            watchdog_ms: i.watchdog_ms,
        })
        .collect()
}

/// The pins of `config` whose edges stay out of the batches (bit n = GPIO n).
fn unbatched(config: &Config) -> u64 {
    config
        .inputs
        .iter()
        .filter(|i| !i.publishes_edges())
        .fold(0, |mask, i| mask | 1u64 << (i.pin & 63))
}

impl Sampling<'_> {
    /// Blocks (or chunks) in, batches out, until the signal ends or shutdown.
    pub(super) fn run(mut self, source: Source) -> Result<(), SamplerError> {
        let c = &self.config;
        let mut state = SamplingState {
            block: new_block(&source),
            chunk: EdgeChunk::default(),
            source,
            pipeline: Pipeline::new(&c.filter_inputs()),
            batcher: {
                let mut b = Batcher::new(self.run_id, c.batch.max_edges, c.batch.max_age_ms * 1000);
                let _ = b.set_max_bytes(c.batch.max_bytes); // nothing is open yet
                let _ = b.set_format(c.batch.format);
                b
            },
            edges: Vec::new(),
            counted: SamplerCounters::default(),
            limited: [0; MAX_PIN as usize + 1],
            meters: Meters::new(&meter_inputs(c), &load_totals(&c.state_dir)),
            meter_events: Vec::new(),
            unbatched: unbatched(c),
        };
        loop {
            self.beats.sampling();
            self.take_updates(&mut state);
            if self.shutdown.is_triggered() {
                break;
            }
            let more = match &mut state.source {
                Source::Blocks(s) => s.next_block(&mut state.block, self.shutdown)?,
                Source::Edges(s) => s.next_chunk(&mut state.chunk, self.shutdown)?,
            };
            if !more {
                break;
            }
            self.process(&mut state);
        }
        if let Some(batch) = state.batcher.flush() {
            self.send_batch(batch);
        }
        // A clean stop: the last readings go out and the totals are saved.
        if let Some(now) = state.pipeline.last_sample_us() {
            state.meters.finish(now, &mut state.meter_events);
            self.send_meter_events(&mut state.meter_events);
        }
        if !state.meters.is_empty() {
            save_totals(&self.config.state_dir, &state.meters.totals());
        }
        Ok(())
    }

    fn send_meter_events(&self, events: &mut Vec<MeterEvent>) {
        for e in events.drain(..) {
            self.send(Outgoing::Meter(e));
        }
    }

    /// Hands the filtered edges in `edges` on: to the meters, and to the batcher for the pins
    /// whose edges are published; pins published by level only get their last level sent.
    fn route(&self, state: &mut SamplingState, from: usize) {
        let mut levels: Vec<PinLevel> = Vec::new();
        for i in from..state.edges.len() {
            let e = state.edges[i];
            state.meters.push(&e);
            if state.unbatched >> (e.pin & 63) & 1 == 0 {
                self.push_edge(&mut state.batcher, e);
                continue;
            }
            Stats::add(&self.stats.edges_per_pin[usize::from(e.pin) % 64], 1);
            match levels.iter_mut().find(|l| l.pin == e.pin) {
                Some(l) => l.level = e.level,
                None => levels.push(PinLevel {
                    pin: e.pin,
                    level: e.level,
                }),
            }
        }
        if !levels.is_empty() {
            // The publisher keeps the latest level of each pin and drops those not published.
            self.send(Outgoing::Levels(levels));
        }
    }

    fn process(&self, state: &mut SamplingState) {
        let now = state.source.counters();
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
        state.edges.clear();
        let events = match &state.source {
            Source::Blocks(_) => {
                Stats::add(&self.stats.samples, state.block.samples() as u64);
                state.pipeline.process(&state.block, &mut state.edges)
            }
            Source::Edges(_) => state.pipeline.process_chunk(&state.chunk, &mut state.edges),
        };
        if let Some(levels) = events.initial {
            self.start_levels(state, levels);
        }
        if let Some(gap) = events.gap {
            warn!(
                from_us = gap.from_us,
                to_us = gap.to_us,
                samples = gap.samples,
                edges = gap.edges,
                "signal lost"
            );
            Stats::add(&self.stats.samples_lost, gap.samples);
            Stats::add(&self.stats.edges_lost, gap.edges);
            state.meters.gap(&gap);
            // The gap comes before this stretch's edges, in the batch as in time.
            state.batcher.push_gap(gap);
        }
        self.route(state, 0);
        let SamplingState {
            pipeline,
            batcher,
            limited,
            meters,
            meter_events,
            ..
        } = state;
        if let Some(now) = pipeline.last_sample_us() {
            meters.poll(now, meter_events);
            self.send_meter_events(meter_events);
            if let Some(totals) = meters.save_due(now) {
                save_totals(&self.config.state_dir, &totals);
            }
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
                        .map(|()| state.source.model());
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
        let words_changed = match &state.source {
            Source::Blocks(s) => words != s.words(),
            Source::Edges(_) => false,
        };
        let restart = changes.sampler_restart || words_changed;
        if let (false, Source::Blocks(s)) = (restart, &mut state.source) {
            // A new sampler sets every pad as it opens; the running one only those that
            // changed or were added. (An edge source's request follows its line specs below.)
            let pulls: Vec<_> = config
                .inputs
                .iter()
                .filter(|i| {
                    changes.pulls_changed.contains(&i.pin) || changes.pins_added.contains(&i.pin)
                })
                .map(|i| (i.pin, i.pull))
                .collect();
            s.set_pulls(&pulls).map_err(|e| e.to_string())?;
        }
        if restart {
            let new = replace_source(&mut state.source, &config, &state.pipeline).map_err(|e| {
                if config.sampler.backend == crate::config::Backend::Dma {
                    // The agent gave up /dev/mem's privilege after set-up.
                    format!(
                        "{e} (privilege is given up after set-up: put the change in the \
                         config file and restart the service)"
                    )
                } else {
                    e
                }
            })?;
            state.block = new_block(&new);
            state.source = new;
            state.counted = SamplerCounters::default();
            state.pipeline.mark_restart();
            info!(
                period_us = config.sampler.period_us,
                block_samples = config.sampler.samples_per_block(),
                "sampler restarted with new settings"
            );
        }
        if let Source::Edges(s) = &mut state.source {
            // Pins added or removed, or their line flags changed: the request follows.
            s.rewatch(&config.line_specs()).map_err(|e| e.to_string())?;
        }
        state.edges.clear();
        let added = state
            .pipeline
            .reconfigure(&config.filter_inputs(), changes, &mut state.edges);
        state
            .meters
            .reconfigure(&meter_inputs(&config), &changes.meters_reset);
        state.unbatched = unbatched(&config);
        for &pin in &changes.pins_removed {
            state.batcher.forget_pin(pin);
        }
        if !changes.pins_removed.is_empty() {
            self.send(Outgoing::Removed(changes.pins_removed.clone()));
        }
        if !added.is_empty() {
            self.start_levels(state, added);
        }
        self.route(state, 0);
        if changes.batch_changed {
            let b = &config.batch;
            if let Some(batch) = state.batcher.set_limits(b.max_edges, b.max_age_ms * 1000) {
                self.send_batch(batch);
            }
            if let Some(batch) = state.batcher.set_max_bytes(b.max_bytes) {
                self.send_batch(batch);
            }
            if let Some(batch) = state.batcher.set_format(b.format) {
                self.send_batch(batch);
            }
            self.queue.set_capacity(b.queue_batches);
        }
        self.config = config;
        Ok(())
    }

    /// Levels of pins that start being reported: state for the meters, the batcher (pins
    /// whose edges it publishes) and the publisher.
    fn start_levels(&self, state: &mut SamplingState, levels: Vec<PinLevel>) {
        state.meters.set_levels(&levels);
        let batched: Vec<PinLevel> = levels
            .iter()
            .copied()
            .filter(|l| state.unbatched >> (l.pin & 63) & 1 == 0)
            .collect();
        state.batcher.set_levels(&batched);
        self.send(Outgoing::Levels(levels));
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

/// A block buffer for `source` (an edge source needs none: an empty one).
fn new_block(source: &Source) -> Block {
    match source {
        Source::Blocks(s) => Block::new(s.period_us(), s.words()),
        Source::Edges(_) => Block::new(1, LevelWords::One),
    }
}

/// Opens the source `config` names in place of `old`. A sampler is opened while the old one
/// still runs (if it cannot start, the old one keeps running); an edge source's lines can be
/// held by one request only, so the old edge source lets go of them first and takes them back
/// if the new one cannot start. A new edge source continues from the levels already reported.
fn replace_source(
    old: &mut Source,
    config: &Config,
    pipeline: &Pipeline,
) -> Result<Source, String> {
    let new = match old {
        Source::Blocks(_) => sampler::open_source(config),
        Source::Edges(old) => {
            old.release();
            sampler::open_source(config).inspect_err(|_| {
                if let Err(e) = old.reacquire() {
                    warn!(error = %e, "the old GPIO request could not be made again");
                }
            })
        }
    };
    let mut new = new.map_err(|e| e.to_string())?;
    if let Source::Edges(s) = &mut new {
        s.take_over(&pipeline.levels(), pipeline.last_sample_us());
    }
    Ok(new)
}

#[cfg(test)]
#[path = "sampling_tests.rs"]
mod tests;
