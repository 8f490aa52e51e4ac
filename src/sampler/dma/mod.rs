//! The DMA sampler: a circular chain of control blocks samples GPLEV into a ring of blocks, each
//! stamped with one system-timer read; this consumer copies completed blocks out in bulk and
//! hands them on with UTC times, reporting every lost sample.
//!
//! The same code drives a Pi (`backend = "dma"`, `/dev/mem`) and the emulated board
//! (`backend = "emulated"`): only [`source`] differs, i.e. where memory, board and clock come from.

mod ring;
pub mod selftest;
mod source;

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::hw::chain::{blocks_for, ChainLayout, ChainSpec, Position};
use crate::hw::clock::HostClock;
use crate::hw::dmamem::DmaMemory;
use crate::hw::periph::Peripherals;
use crate::hw::regs::{dma, st};
use crate::hw::teardown::{self, ChannelGuard};
use crate::hw::{channel, pacing, HwError};
use crate::shutdown::Shutdown;

use super::ticks::{TickExtender, UtcMapper};
use super::{Backend, Block, LevelWords, Sampler, SamplerConfig, SamplerCounters, SamplerError};
use ring::{block_wait_us, late_us, lost_across_restart, lost_samples, ready, samples_left, Ready};

/// How often the tick → UTC offset is measured again (host µs).
const UTC_REESTIMATE_US: u64 = 10_000_000;

/// Samples GPIO with the DMA engine of a real or emulated board.
pub struct DmaSampler {
    // Field order is drop order: the channel stops before its memory is released, and the
    // emulator (if any) outlives both so it can witness the teardown.
    guard: ChannelGuard,
    memory: Box<dyn DmaMemory>,
    /// Removes the chain's record from `state_dir` once channel and memory are gone.
    _record: RecordGuard,
    periph: Peripherals,
    layout: ChainLayout,
    plan: pacing::PacingPlan,
    clock: Arc<dyn HostClock>,
    next: u32,
    ticks: TickExtender,
    utc: UtcMapper,
    last_estimate_host_us: u64,
    /// Tick of the last block handed on (its first sample).
    prev_tick: Option<u64>,
    /// Tick of the last sample before a restart, until the first block after it arrives.
    restart_from: Option<u64>,
    /// UTC µs just after the last block handed on: block times never go back.
    last_end_us: u64,
    /// The next completed block is the first after a (re)start: its first samples were taken in
    /// the burst that fills the pacing FIFO, not at the period, so it is dropped.
    skip_next: bool,
    /// How late (µs) the last block handed on was, measured engine-side: its missing time is
    /// a gap before the next block.
    late_prev: Option<u64>,
    /// The shortest period this board's engine sustains (for the lateness log).
    shortest_period_us: u32,
    counters: SamplerCounters,
    /// The board, as [`Sampler::model`] names it.
    model: String,
    _source: source::Keepalive,
}

impl DmaSampler {
    /// Sets up pacing, memory and the chain for `words` level words per sample, and starts the
    /// channel.
    pub fn open(
        s: &SamplerConfig,
        words: LevelWords,
        state_dir: &std::path::Path,
    ) -> Result<DmaSampler, SamplerError> {
        let src = source::open(s)?;
        let board = &src.board;
        let channel_no = s.dma_channel.unwrap_or(board.default_dma_channel);
        board
            .check_dma_channel(channel_no, true)
            .map_err(settings)?;
        let plan = pacing::plan(s.period_us, board.plld_hz, s.pacer).map_err(settings)?;
        let layout = ChainLayout::new(ChainSpec {
            block_samples: s.block_samples,
            blocks: blocks_for(s.period_us, s.block_samples, s.buffer_ms),
            words,
            permap: plan.permap(),
            fifo_offset: plan.fifo_offset(),
            periph_base: board.periph_base,
            lite_channel: dma::is_lite(channel_no),
        })
        .map_err(settings)?;
        let periph = Peripherals::map(&src.mem, board.periph_base).map_err(hw)?;
        // A chain a killed run left running goes first: it may hold this very channel, and its
        // memory is leaked until released.
        src.recover_orphan(state_dir);
        let memory = src.allocate(&periph, layout.bytes()).map_err(hw)?;
        let regs =
            Peripherals::map_dma_channel(&src.mem, board.periph_base, channel_no).map_err(hw)?;
        let guard = ChannelGuard::new(regs).map_err(hw)?;
        let record = RecordGuard::save(state_dir, &src.record(channel_no, memory.as_ref()));
        info!(
            board = %board.model,
            channel = channel_no,
            memory = memory.method(),
            bytes = layout.bytes(),
            blocks = layout.blocks(),
            block_samples = layout.block_samples(),
            pacer = ?s.pacer,
            "DMA sampler set up"
        );
        let mut sampler = DmaSampler {
            guard,
            memory,
            _record: record,
            periph,
            layout,
            plan,
            clock: src.clock.clone(),
            next: 0,
            ticks: TickExtender::new(),
            utc: UtcMapper::new(),
            last_estimate_host_us: 0,
            prev_tick: None,
            restart_from: None,
            last_end_us: 0,
            skip_next: true,
            late_prev: None,
            shortest_period_us: board.shortest_period_us(),
            counters: SamplerCounters::default(),
            model: match s.backend {
                Backend::Emulated => format!("{} (emulated)", board.model),
                Backend::Dma | Backend::Replay => board.model.clone(),
            },
            _source: src.keepalive,
        };
        if s.period_us < board.shortest_period_us() {
            warn!(
                period_us = s.period_us,
                shortest_us = board.shortest_period_us(),
                board = %board.model,
                "the sample period is shorter than this board's DMA engine sustains (two control \
                 blocks per sample): blocks will run late, reported as gaps and dma_late_blocks"
            );
        }
        pacing::program(&sampler.periph, &sampler.plan).map_err(hw)?;
        sampler.start_chain();
        Ok(sampler)
    }

    /// Writes a fresh chain image and starts the channel on it.
    fn start_chain(&mut self) {
        let pages = self.memory.pages();
        let image = self.layout.image(pages);
        self.memory.mapping().copy_in(0, &image);
        channel::start(self.guard.regs(), self.layout.first_cb_bus(pages));
        self.next = 0;
        self.skip_next = true;
        self.ticks = TickExtender::new();
        self.estimate_utc();
    }

    /// Measures the tick → UTC offset: a CPU read of CLO between two host clock reads.
    fn estimate_utc(&mut self) {
        let before = self.clock.utc_us();
        let clo = self.periph.st.read32(st::CLO);
        let after = self.clock.utc_us();
        let tick = match self.ticks.last() {
            // Extend against the ring's ticks so both share one 64-bit timeline.
            Some(_) => self.ticks.clone().extend(clo),
            None => u64::from(clo),
        };
        self.utc.estimate(before, tick, after);
        self.last_estimate_host_us = after;
    }

    /// CONBLK_AD of the running channel; if the channel stopped on its own, says why, restarts
    /// it and returns None (look again).
    fn check_running(&mut self) -> Option<u32> {
        let status = channel::status(self.guard.regs());
        if status.active && status.conblk_ad != 0 && !status.error {
            return Some(status.conblk_ad);
        }
        let why = if status.error {
            format!("error (DEBUG {:#x})", status.debug_errors)
        } else if status.conblk_ad == 0 {
            "CONBLK_AD reads 0 (reset by someone else?)".to_string()
        } else {
            "ACTIVE cleared".to_string()
        };
        self.counters.restarts += 1;
        warn!(
            why,
            restarts = self.counters.restarts,
            "DMA channel stopped by itself: rebuilding the chain and restarting"
        );
        channel::stop(self.guard.regs());
        let last_sample = self.prev_tick.map(|t| {
            t + u64::from(self.layout.block_samples() - 1) * u64::from(self.plan.period_us)
        });
        self.start_chain();
        // The gap is measured once the first new block arrives (see `next_block`).
        self.prev_tick = None;
        self.restart_from = last_sample.or(self.restart_from);
        None
    }

    /// Copies block `b` into `out`; returns its 64-bit tick and how late the engine finished it
    /// (see [`late_us`]), or None if the engine overwrote it during the copy.
    fn copy_block(&mut self, b: u32, out: &mut Block) -> Option<(u64, Option<u64>)> {
        let map = self.memory.mapping();
        let before = map.read32(self.layout.ticks_offset(b));
        out.levels.resize(self.layout.level_words_per_block(), 0);
        map.copy_out(self.layout.levels_offset(b), &mut out.levels);
        let after = map.read32(self.layout.ticks_offset(b));
        // The engine may have come round into block b while we copied it.
        let pos = self.layout.position(
            channel::status(self.guard.regs()).conblk_ad,
            self.memory.pages(),
        );
        if before != after || pos.is_some_and(|p| p.block == b) {
            return None;
        }
        // The next block's tick is this lap's once the engine is past that block's tick CB:
        // the two ticks then time block b on the engine's side, whatever the consumer did.
        let next = (b + 1) % self.layout.blocks();
        let next_done = pos.is_some_and(|p| p.block != next || p.cb_in_block > 0);
        let late = next_done
            .then(|| map.read32(self.layout.ticks_offset(next)))
            .and_then(|nt| late_us(after, nt, self.layout.block_samples(), self.plan.period_us));
        Some((self.ticks.extend(after), late))
    }

    /// How long to wait for the engine when it is at `pos` of the block we want: until that
    /// block should be complete (its remaining samples × the period, plus a little for jitter),
    /// so the consumer wakes about once per block instead of polling.
    fn wait_for_block(&self, pos: Position) -> Duration {
        let left = samples_left(pos.cb_in_block, self.layout.block_samples());
        Duration::from_micros(block_wait_us(
            u64::from(left) * u64::from(self.plan.period_us),
        ))
    }
}

impl Sampler for DmaSampler {
    fn next_block(&mut self, block: &mut Block, shutdown: &Shutdown) -> Result<bool, SamplerError> {
        loop {
            // A signal or panic already stopped the channel: end like a shutdown.
            if shutdown.is_triggered() || teardown::fired() {
                return Ok(false);
            }
            let Some(conblk) = self.check_running() else {
                continue;
            };
            let Some(pos) = self.layout.position(conblk, self.memory.pages()) else {
                // Between two reads of a CB address the engine is always on one of ours; a
                // foreign one is transient: look again shortly.
                self.clock.wait(Duration::from_micros(block_wait_us(0)));
                continue;
            };
            if ready(self.next, pos.block) == Ready::Wait {
                self.clock.wait(self.wait_for_block(pos));
                continue;
            }
            let b = self.next;
            let Some((tick, late)) = self.copy_block(b, block) else {
                // Overwritten while we copied: wait for the engine to finish it; its new tick
                // then tells how much was lost.
                continue;
            };
            if std::mem::take(&mut self.skip_next) {
                self.next = (b + 1) % self.layout.blocks();
                self.late_prev = None;
                continue;
            }
            let samples = self.layout.block_samples();
            let period = u64::from(self.plan.period_us.max(1));
            // A late previous block moved this block's start by its lateness: that time is a
            // gap (samples not taken at the period), not a lapped ring.
            let late_before = self.late_prev.take().unwrap_or(0);
            let lost = match (self.prev_tick, self.restart_from.take()) {
                (Some(prev), _) => {
                    lost_samples(prev + late_before, samples, self.plan.period_us, tick)
                }
                (None, Some(last)) => lost_across_restart(last, self.plan.period_us, tick),
                (None, None) => 0,
            };
            if lost > 0 && self.prev_tick.is_some() {
                self.counters.overruns += 1;
                warn!(
                    lost,
                    overruns = self.counters.overruns,
                    "consumer lapped by the DMA engine: samples overwritten"
                );
            }
            if self
                .clock
                .utc_us()
                .saturating_sub(self.last_estimate_host_us)
                > UTC_REESTIMATE_US
            {
                self.estimate_utc();
            }
            block.period_us = self.plan.period_us;
            block.words = self.layout.spec().words;
            block.t0_us = self.utc.utc(tick).max(self.last_end_us);
            block.lost_before = lost + (late_before + period / 2) / period;
            if let Some(l) = late {
                self.counters.late_blocks += 1;
                if self.counters.late_blocks % 1000 == 1 {
                    warn!(
                        late_us = l,
                        block_us = u64::from(samples) * period,
                        late_blocks = self.counters.late_blocks,
                        period_us = self.plan.period_us,
                        shortest_period_us = self.shortest_period_us,
                        "the DMA engine cannot keep the sample period: samples are not at the \
                         period, the missing time is reported as a gap"
                    );
                }
                self.late_prev = Some(l);
            }
            self.last_end_us = block.end_us();
            self.prev_tick = Some(tick);
            self.next = (b + 1) % self.layout.blocks();
            return Ok(true);
        }
    }

    fn period_us(&self) -> u32 {
        self.plan.period_us
    }

    fn words(&self) -> LevelWords {
        self.layout.spec().words
    }

    fn model(&self) -> String {
        self.model.clone()
    }

    fn counters(&self) -> SamplerCounters {
        self.counters
    }
}

impl Drop for DmaSampler {
    fn drop(&mut self) {
        // Stop the engine before the pacer: a channel waiting on a dead DREQ never finishes
        // an abort on some boards. The guard stops it again (harmless) when it drops.
        channel::stop(self.guard.regs());
        pacing::stop(&self.periph, self.plan.pacer);
    }
}

/// The chain's record in `state_dir` (see `hw::orphan`), removed on drop: declared after the
/// channel guard and the memory, so it goes only once both are.
struct RecordGuard {
    /// Where the record was written; None when it could not be.
    state_dir: Option<std::path::PathBuf>,
}

impl RecordGuard {
    /// Writes `record` into `state_dir`; a failure costs only the recovery after a `kill -9`,
    /// so it is logged, not fatal.
    fn save(state_dir: &std::path::Path, record: &crate::hw::orphan::ChainRecord) -> Self {
        match crate::hw::orphan::save(state_dir, record) {
            Ok(()) => RecordGuard {
                state_dir: Some(state_dir.to_path_buf()),
            },
            Err(e) => {
                warn!(
                    state_dir = %state_dir.display(),
                    error = %e,
                    "cannot record the DMA chain: after a kill -9 the next start cannot stop it or free its memory"
                );
                RecordGuard { state_dir: None }
            }
        }
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        // Only our own record: another agent on the same state_dir may have written since.
        if let Some(dir) = &self.state_dir {
            if crate::hw::orphan::load(dir).is_some_and(|r| r.pid == std::process::id()) {
                crate::hw::orphan::forget(dir);
            }
        }
    }
}

/// A hardware refusal of a setting, as a sampler error.
fn settings(e: HwError) -> SamplerError {
    match e {
        HwError::Settings { field, reason } => SamplerError::Settings { field, reason },
        other => SamplerError::Hardware(other),
    }
}

/// A hardware failure, as a sampler error.
fn hw(e: HwError) -> SamplerError {
    SamplerError::Hardware(e)
}
