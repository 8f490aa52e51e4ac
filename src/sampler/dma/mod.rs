//! The DMA sampler: a circular chain of control blocks samples GPLEV into a ring of blocks, each
//! stamped with one system-timer read; this consumer copies completed blocks out in bulk and
//! hands them on with UTC times, reporting every lost sample.
//!
//! The same code drives a Pi (`backend = "dma"`, `/dev/mem`) and the emulated board
//! (`backend = "emulated"`): only [`source`] differs, i.e. where memory, board and clock come from.

mod copy;
pub mod loopback;
mod loopback_capture;
mod pulses;
mod ring;
pub mod selftest;
mod source;
mod start;
mod watchdog;

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::hw::chain::{blocks_for, ChainLayout, ChainSpec, Position};
use crate::hw::clock::HostClock;
use crate::hw::dmamem::DmaMemory;
use crate::hw::periph::Peripherals;
use crate::hw::pull::{self, Pull, PullScheme};
use crate::hw::regs::dma;
use crate::hw::teardown::{self, ChannelGuard};
use crate::hw::{channel, pacing, HwError};
use crate::shutdown::Shutdown;

use super::ticks::{TickExtender, UtcMapper};
use super::{Backend, Block, LevelWords, Sampler, SamplerConfig, SamplerCounters, SamplerError};
use ring::{block_wait_us, late_us, lost_across_restart, lost_samples, ready, samples_left, Ready};
use watchdog::Watchdog;

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
    /// Notices a chain that stopped moving with ACTIVE still set (a lost DREQ).
    watchdog: Watchdog,
    /// The board, as [`Sampler::model`] names it.
    model: String,
    /// How this board's pads take their pulls.
    pull_scheme: Option<PullScheme>,
    _source: source::Keepalive,
}

impl DmaSampler {
    /// Sets up pacing, memory and the chain for `words` level words per sample, and starts the
    /// channel.
    pub fn open(
        s: &SamplerConfig,
        words: LevelWords,
        pins: &[u8],
        pulls: &[(u8, Pull)],
        state_dir: &std::path::Path,
    ) -> Result<DmaSampler, SamplerError> {
        DmaSampler::open_on(source::open(s, pins)?, s, words, pulls, state_dir)
    }

    /// Like [`DmaSampler::open`], on a board already opened (the loopback selftest drives
    /// a pin of the same board).
    fn open_on(
        src: source::Source,
        s: &SamplerConfig,
        words: LevelWords,
        pulls: &[(u8, Pull)],
        state_dir: &std::path::Path,
    ) -> Result<DmaSampler, SamplerError> {
        let board = &src.board;
        // A chain a killed run left running goes first: it may hold this very channel (which
        // would then look taken by someone else), and its memory is leaked until released.
        src.recover_orphan(state_dir);
        let channel_no = choose_channel(&src, s.dma_channel, s.dma_force)?;
        let plan = pacing::plan(s.period_us, board.plld_hz, s.pacer).map_err(settings)?;
        let layout = ChainLayout::new(ChainSpec {
            block_samples: s.samples_per_block(),
            blocks: blocks_for(s.period_us, s.samples_per_block(), s.buffer_ms),
            words,
            permap: plan.permap(),
            fifo_offset: plan.fifo_offset(),
            periph_base: board.periph_base,
            lite_channel: dma::is_lite(channel_no),
        })
        .map_err(settings)?;
        let periph = Peripherals::map(&src.mem, board.periph_base).map_err(hw)?;
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
            watchdog: Watchdog::new(s.block_us(), src.clock.utc_us()),
            model: match s.backend {
                Backend::Emulated => format!("{} (emulated)", board.model),
                Backend::Dma | Backend::Replay | Backend::Cdev => board.model.clone(),
            },
            pull_scheme: PullScheme::of(board.soc),
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
        // Pulls first: the first sample already sees the pads as configured.
        sampler.apply_pulls(pulls)?;
        pacing::program(&sampler.periph, &sampler.plan).map_err(hw)?;
        sampler.start_chain();
        Ok(sampler)
    }

    /// Writes a fresh chain image and starts the channel on it, measuring the tick → UTC
    /// offset just before the start (see [`start`]). The tick timeline carries on across
    /// restarts, so gaps across one are measured on it.
    fn start_chain(&mut self) {
        let pages = self.memory.pages();
        let image = self.layout.image(pages);
        self.memory.mapping().copy_in(0, &image);
        let e = start::estimate_then_start(
            &self.periph.st,
            self.guard.regs(),
            &*self.clock,
            self.layout.first_cb_bus(pages),
        );
        e.apply(&mut self.ticks, &mut self.utc);
        self.last_estimate_host_us = e.after;
        self.next = 0;
        self.skip_next = true;
        self.watchdog.rearm(self.clock.utc_us());
    }

    /// Sets the pads' pull resistors (see [`pull`]); pins at [`Pull::Keep`] are left alone.
    fn apply_pulls(&mut self, pulls: &[(u8, Pull)]) -> Result<(), SamplerError> {
        if pulls.iter().all(|(_, p)| *p == Pull::Keep) {
            return Ok(());
        }
        let Some(scheme) = self.pull_scheme else {
            return Err(SamplerError::Settings {
                field: "inputs.pull".into(),
                reason: format!(
                    "{} has no pull registers this sampler can reach",
                    self.model
                ),
            });
        };
        pull::set_pulls(&self.periph.gpio, &*self.clock, scheme, pulls);
        info!(pulls = ?pulls.iter().filter(|(_, p)| *p != Pull::Keep).collect::<Vec<_>>(),
            "pads' pulls set");
        Ok(())
    }

    /// Measures the tick → UTC offset again: a CPU read of CLO between two host clock reads.
    fn estimate_utc(&mut self) {
        let e = start::Estimate::take(&self.periph.st, &*self.clock);
        e.apply(&mut self.ticks, &mut self.utc);
        self.last_estimate_host_us = e.after;
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
        self.restart();
        None
    }

    /// Stops the channel and starts a fresh chain; the samples in between are reported as a
    /// gap once the first new block arrives (see `next_block`).
    fn restart(&mut self) {
        channel::stop(self.guard.regs());
        let last_sample = self.prev_tick.map(|t| {
            t + u64::from(self.layout.block_samples() - 1) * u64::from(self.plan.period_us)
        });
        self.start_chain();
        self.prev_tick = None;
        self.restart_from = last_sample.or(self.restart_from);
    }

    /// Feeds the watchdog the engine's position; on a stall (neither CONBLK_AD nor the tick
    /// word moved for a few block times) reprograms the pacer and restarts the chain.
    /// Returns whether it did.
    fn recovered_stall(&mut self, conblk: u32, pos: Position) -> Result<bool, SamplerError> {
        let tick = self
            .memory
            .mapping()
            .read32(self.layout.ticks_offset(pos.block));
        let Some(still_us) = self.watchdog.observe(conblk, tick, self.clock.utc_us()) else {
            return Ok(false);
        };
        self.counters.stalls += 1;
        warn!(
            still_us,
            limit_us = self.watchdog.limit_us(),
            conblk = format_args!("{conblk:#010x}"),
            pacer = ?self.plan.pacer,
            stalls = self.counters.stalls,
            "DMA chain made no progress (pacing DREQ lost: did another user take the pacer or its \
             clock?): reprogramming the pacer and restarting the chain"
        );
        channel::stop(self.guard.regs());
        pacing::program(&self.periph, &self.plan).map_err(hw)?;
        self.restart();
        Ok(true)
    }

    /// Copies block `b` into `out`; returns its 64-bit tick and how late the engine finished it
    /// (see [`late_us`]), or None if the engine overwrote it during the copy.
    fn copy_block(&mut self, b: u32, out: &mut Block) -> Option<(u64, Option<u64>)> {
        let c = copy::copy_block(
            self.memory.mapping(),
            self.guard.regs(),
            &self.layout,
            b,
            &mut out.levels,
        );
        // The engine may have come round into block b while we copied it.
        let pos = self.layout.position(c.conblk_after, self.memory.pages());
        if c.tick_before != c.tick_after || pos.is_some_and(|p| p.block == b) {
            return None;
        }
        // The next block's tick is this lap's once the engine is past that block's tick CB:
        // the two ticks then time block b on the engine's side, whatever the consumer did.
        let next = (b + 1) % self.layout.blocks();
        let next_done = pos.is_some_and(|p| p.block != next || p.cb_in_block > 0);
        let late = next_done
            .then(|| self.memory.mapping().read32(self.layout.ticks_offset(next)))
            .and_then(|nt| {
                late_us(
                    c.tick_after,
                    nt,
                    self.layout.block_samples(),
                    self.plan.period_us,
                )
            });
        Some((self.ticks.extend(c.tick_after), late))
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
            if self.recovered_stall(conblk, pos)? {
                continue;
            }
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

    fn set_pulls(&mut self, pulls: &[(u8, Pull)]) -> Result<(), SamplerError> {
        self.apply_pulls(pulls)
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

/// The channel to use: the configured one if nobody else's chain is on it (or `force`), else
/// the first free candidate of the board (see [`Board::dma_channel_candidates`]).
fn choose_channel(
    src: &source::Source,
    configured: Option<u8>,
    force: bool,
) -> Result<u8, SamplerError> {
    let board = &src.board;
    let look = |n: u8| -> Result<Option<String>, SamplerError> {
        let regs = Peripherals::map_dma_channel(&src.mem, board.periph_base, n).map_err(hw)?;
        Ok(channel::in_use(&channel::status(&regs)))
    };
    if let Some(n) = configured {
        board.check_dma_channel(n, true).map_err(settings)?;
        return match look(n)? {
            None => Ok(n),
            Some(why) if force => {
                warn!(
                    channel = n,
                    why, "DMA channel in use: taking it (sampler.dma_force)"
                );
                Ok(n)
            }
            Some(why) => Err(SamplerError::Settings {
                field: "sampler.dma_channel".into(),
                reason: format!(
                    "channel {n} is in use by another user ({why}); choose another, leave \
                     sampler.dma_channel unset to pick a free one, or set sampler.dma_force = true"
                ),
            }),
        };
    }
    let candidates = board.dma_channel_candidates();
    let mut busy = Vec::new();
    for &n in &candidates {
        match look(n)? {
            None => {
                info!(
                    channel = n,
                    mask = ?board.dma_channel_mask,
                    "picked a free DMA channel (sampler.dma_channel unset)"
                );
                return Ok(n);
            }
            Some(why) => busy.push(format!("{n}: {why}")),
        }
    }
    Err(SamplerError::Settings {
        field: "sampler.dma_channel".into(),
        reason: format!(
            "no free DMA channel among {candidates:?} ({})",
            busy.join("; ")
        ),
    })
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
