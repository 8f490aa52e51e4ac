//! The `[sampler]` section: its rules and what a change to it means. The settings themselves
//! belong to the layers they configure (the sampler, the emulated board, the pacer) and are
//! re-exported by the config.

use super::changeset::ChangeSet;
use super::error::Refusals;
use crate::emu::{EmulatedConfig, FaultsConfig};
use crate::hw::lineplan::MAX_EVENT_BUFFER;
use crate::sampler::{Backend, CdevConfig, ReplayConfig, SamplerConfig};

/// Longest sample period the DMA pacing clock is set up for.
const MAX_DMA_PERIOD_US: u32 = crate::hw::pacing::MAX_PERIOD_US;

/// Checks the section's rules.
pub(super) fn validate(s: &SamplerConfig, r: &mut Refusals) {
    r.check(
        (1..=1_000_000).contains(&s.period_us),
        "sampler.period_us",
        format!("{} is out of range (1-1000000 µs)", s.period_us),
    );
    validate_block(s, r);
    if s.backend == Backend::Replay {
        r.check(
            !s.replay.signal.as_os_str().is_empty(),
            "sampler.replay.signal",
            "the replay backend needs a VCD file".into(),
        );
    }
    if s.backend == Backend::Cdev {
        validate_cdev(&s.cdev, r);
    }
    if matches!(s.backend, Backend::Dma | Backend::Emulated) {
        r.check(
            (1..=MAX_DMA_PERIOD_US).contains(&s.period_us),
            "sampler.period_us",
            format!(
                "{} µs cannot be paced by the DMA backends (1-{MAX_DMA_PERIOD_US} µs, whole µs)",
                s.period_us
            ),
        );
        let block_us = s.block_us();
        r.check(
            u64::from(s.buffer_ms) * 1000 >= 2 * block_us && s.buffer_ms <= 10_000,
            "sampler.buffer_ms",
            format!(
                "{} ms must hold at least two blocks ({} µs each) and be at most 10000",
                s.buffer_ms, block_us
            ),
        );
        if let Some(ch) = s.dma_channel {
            r.check(
                ch <= 15,
                "sampler.dma_channel",
                format!("{ch} is not a DMA channel (0-15)"),
            );
        }
    }
    for &[out, inp] in &s.emulated.loopback {
        let max = crate::hw::gpio_out::MAX_GPIO;
        r.check(
            out != inp && out <= max && inp <= max,
            "sampler.emulated.loopback",
            format!("[{out}, {inp}] must wire two different GPIOs (0-{max}), output first"),
        );
    }
    if s.backend == Backend::Emulated && s.emulated.mem.is_none() {
        // The emulated engine is as slow as the board's silicon: say so before it runs late.
        // (An attached board file names its own board: the sampler warns when it opens.)
        let board = crate::hw::board::Board::emulated(s.emulated.board);
        let shortest = board.shortest_period_us();
        r.check(
            s.period_us >= shortest,
            "sampler.period_us",
            format!(
                "{} µs is shorter than the {} sustains ({shortest} µs: two DMA control \
                 blocks per sample at {} ns each)",
                s.period_us,
                board.model,
                board.cb_cost_ns()
            ),
        );
        r.check(
            !s.emulated.signal.as_os_str().is_empty(),
            "sampler.emulated.signal",
            "the in-process emulator needs a VCD file to drive the pins".into(),
        );
    }
}

/// Longest block as a time (ms): a block is also the latency an edge waits before its batch
/// sees it, and a ring (`buffer_ms`, at most 10 s) holds at least two.
const MAX_BLOCK_MS: u32 = 1000;

/// Most samples in one block: a 1 s block at 1 µs. On the DMA backends each sample is two
/// control blocks, so the ring's DMA memory is bounded again when the chain is laid out.
const MAX_BLOCK_SAMPLES: u32 = 1_000_000;

/// The block's size: `block_ms` (the block as a time) or the older `block_samples`, never both
/// (which one was meant would be a guess, and a remote patch of one must not silently lose to
/// the other kept in the file).
fn validate_block(s: &SamplerConfig, r: &mut Refusals) {
    if let (Some(ms), Some(n)) = (s.block_ms, s.block_samples) {
        r.check(
            false,
            "sampler.block_ms",
            format!(
                "{ms} ms is given together with sampler.block_samples = {n}: set one of them \
                 (block_ms, the block as a time, is the newer key; remove block_samples, or \
                 send it as null in a remote patch)"
            ),
        );
    }
    if let Some(ms) = s.block_ms {
        r.check(
            (1..=MAX_BLOCK_MS).contains(&ms),
            "sampler.block_ms",
            format!("{ms} is out of range (1-{MAX_BLOCK_MS} ms)"),
        );
    }
    if let Some(n) = s.block_samples {
        r.check(
            (1..=MAX_BLOCK_SAMPLES).contains(&n),
            "sampler.block_samples",
            format!("{n} is out of range (1-{MAX_BLOCK_SAMPLES})"),
        );
    }
}

/// The `[sampler.cdev]` rules that need nothing but the section (the chip's own limits are
/// checked when it is opened).
fn validate_cdev(c: &CdevConfig, r: &mut Refusals) {
    if let Some(n) = c.event_buffer_size {
        r.check(
            (1..=MAX_EVENT_BUFFER).contains(&n),
            "sampler.cdev.event_buffer_size",
            format!("{n} is out of range (1-{MAX_EVENT_BUFFER}: the kernel's limit)"),
        );
    }
    if let Some(chip) = &c.chip {
        r.check(
            !chip.trim().is_empty(),
            "sampler.cdev.chip",
            "is empty: name the chip by path, name or label, or leave it unset".into(),
        );
    }
}

/// What going from `old` to `new` means: every key restarts the sampler (with a gap event),
/// which is built from all of them at once; `block_ms` and `block_samples` count by the block
/// they give (5 ms at 1 µs and 5000 samples are the same block: no restart). Every key, nested ones too, is named: a new one
/// does not compile until its change is classified here.
pub(super) fn classify(old: &SamplerConfig, new: &SamplerConfig, c: &mut ChangeSet) {
    let SamplerConfig {
        backend,
        period_us,
        block_ms: _,
        block_samples: _,
        buffer_ms,
        pacer,
        dma_channel,
        dma_force,
        mem_device,
        dma_memory,
        replay,
        emulated,
        cdev,
    } = old;
    c.sampler_restart |= *backend != new.backend
        || *period_us != new.period_us
        || old.samples_per_block() != new.samples_per_block()
        || *buffer_ms != new.buffer_ms
        || *pacer != new.pacer
        || *dma_channel != new.dma_channel
        || *dma_force != new.dma_force
        || *mem_device != new.mem_device
        || *dma_memory != new.dma_memory
        || replay_changed(replay, &new.replay)
        || emulated_changed(emulated, &new.emulated)
        || cdev_changed(cdev, &new.cdev);
}

/// Whether any key of the character-device backend differs.
fn cdev_changed(old: &CdevConfig, new: &CdevConfig) -> bool {
    let CdevConfig {
        chip,
        event_clock,
        kernel_debounce,
        event_buffer_size,
    } = old;
    *chip != new.chip
        || *event_clock != new.event_clock
        || *kernel_debounce != new.kernel_debounce
        || *event_buffer_size != new.event_buffer_size
}

/// Whether any replay key differs.
fn replay_changed(old: &ReplayConfig, new: &ReplayConfig) -> bool {
    let ReplayConfig {
        signal,
        realtime,
        loop_,
        start_us,
    } = old;
    *signal != new.signal
        || *realtime != new.realtime
        || *loop_ != new.loop_
        || *start_us != new.start_us
}

/// Whether any key of the emulated board differs.
fn emulated_changed(old: &EmulatedConfig, new: &EmulatedConfig) -> bool {
    let EmulatedConfig {
        board,
        signal,
        realtime,
        loop_,
        start_us,
        mem,
        loopback,
        faults,
    } = old;
    let FaultsConfig {
        jitter_ns,
        stall_us,
        stall_every_ms,
        reset_after_ms,
        consumer_stall_ms,
        consumer_stall_after_ms,
        clo_before_wrap_us,
        foreign_channels,
        pacer_stolen_after_ms,
        loopback_drop_every,
    } = faults;
    let f = &new.faults;
    *board != new.board
        || *signal != new.signal
        || *realtime != new.realtime
        || *loop_ != new.loop_
        || *start_us != new.start_us
        || *mem != new.mem
        || *loopback != new.loopback
        || *jitter_ns != f.jitter_ns
        || *stall_us != f.stall_us
        || *stall_every_ms != f.stall_every_ms
        || *reset_after_ms != f.reset_after_ms
        || *consumer_stall_ms != f.consumer_stall_ms
        || *consumer_stall_after_ms != f.consumer_stall_after_ms
        || *clo_before_wrap_us != f.clo_before_wrap_us
        || *foreign_channels != f.foreign_channels
        || *pacer_stolen_after_ms != f.pacer_stolen_after_ms
        || *loopback_drop_every != f.loopback_drop_every
}
