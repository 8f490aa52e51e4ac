//! The sampler's settings (`[sampler]`): owned here, by the layer they configure; the config
//! reads them as its `sampler` section.

use crate::emu::EmulatedConfig;
use crate::hw::dmamem::CpuView;
use crate::hw::lineplan::EventClock;
use crate::hw::pacing::Pacer;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which sampler backend feeds the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Replays a VCD file: no hardware needed.
    Replay,
    /// The DMA engine of an emulated board (a memory file shared with the emulator).
    Emulated,
    /// The DMA engine of a real BCM283x/BCM2711 Raspberry Pi, through `/dev/mem`.
    Dma,
    /// Edge events from the Linux GPIO character device (uAPI v2): any Pi, Pi 5 included, and
    /// any Linux board. Delivers edges, not samples.
    Cdev,
}

impl Backend {
    /// The name config files use (`sampler.backend`), also published on the `info` topic.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Replay => "replay",
            Backend::Emulated => "emulated",
            Backend::Dma => "dma",
            Backend::Cdev => "cdev",
        }
    }
}

/// Sampler settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SamplerConfig {
    /// Backend that produces samples.
    pub backend: Backend,
    /// Microseconds between two samples.
    pub period_us: u32,
    /// The block as a time (ms): the samples it holds follow from `period_us`. Unset (and
    /// `block_samples` unset): [`DEFAULT_BLOCK_MS`]. Use [`SamplerConfig::samples_per_block`].
    pub block_ms: Option<u32>,
    /// The block as a count of samples (the older key; one timer read per block on the DMA
    /// backend). Refused together with `block_ms`. Use [`SamplerConfig::samples_per_block`].
    pub block_samples: Option<u32>,
    /// DMA backends: how much signal the ring of blocks holds (ms) before an unread block is
    /// overwritten (an overrun, reported as a gap).
    pub buffer_ms: u32,
    /// DMA backends: the FIFO that paces sampling (PCM by default: PWM is analogue audio).
    pub pacer: Pacer,
    /// DMA backends: the DMA channel; unset: the board's default (14 on Pi ≤ 3, 7 on Pi 4).
    pub dma_channel: Option<u8>,
    /// DMA backends: take the channel even if another user's chain is on it (it is reset).
    pub dma_force: bool,
    /// DMA backend: the physical-memory device (a Pi's `/dev/mem`).
    pub mem_device: PathBuf,
    /// DMA backend, pagemap memory: how the CPU reaches it. `uncached` (`/dev/mem`, the only
    /// choice on a Pi) or `own-mapping` (ONLY for QEMU / cache-coherent models, never on a Pi).
    pub dma_memory: CpuView,
    /// Settings of the replay backend.
    pub replay: ReplayConfig,
    /// Settings of the emulated board.
    pub emulated: EmulatedConfig,
    /// Settings of the GPIO character-device backend.
    pub cdev: CdevConfig,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            backend: Backend::Replay,
            period_us: 5,
            block_ms: None,
            block_samples: None,
            buffer_ms: 100,
            pacer: Pacer::Pcm,
            dma_channel: None,
            dma_force: false,
            mem_device: PathBuf::from("/dev/mem"),
            dma_memory: CpuView::Uncached,
            replay: ReplayConfig::default(),
            emulated: EmulatedConfig::default(),
            cdev: CdevConfig::default(),
        }
    }
}

/// The block length when neither `block_ms` nor `block_samples` is set: each block is one
/// wake-up of the consumer, and at 5 ms that is 200 a second at any period, while an edge waits
/// at most 5 ms for its block (half the default 10 ms batch window).
pub const DEFAULT_BLOCK_MS: u32 = 5;

impl SamplerConfig {
    /// Samples per block: `block_samples` if set, else as many whole periods as fit in
    /// `block_ms` (or [`DEFAULT_BLOCK_MS`]), at least one.
    pub fn samples_per_block(&self) -> u32 {
        if let Some(n) = self.block_samples {
            return n;
        }
        let block_us = u64::from(self.block_ms.unwrap_or(DEFAULT_BLOCK_MS)) * 1000;
        let n = block_us / u64::from(self.period_us.max(1));
        u32::try_from(n).unwrap_or(u32::MAX).max(1)
    }

    /// How long one block lasts (µs): `samples_per_block × period_us`.
    pub fn block_us(&self) -> u64 {
        u64::from(self.samples_per_block()) * u64::from(self.period_us)
    }
}

/// Settings of the GPIO character-device backend (`[sampler.cdev]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CdevConfig {
    /// The GPIO chip: a path (`/dev/gpiochip0`), a name (`gpiochip0`) or a label
    /// (`pinctrl-rp1`). Unset: the label of the Pi's header chip (`pinctrl-rp1` on a Pi 5,
    /// `pinctrl-bcm2711` on a Pi 4, `pinctrl-bcm2835` before), since paths change between
    /// kernels.
    pub chip: Option<String>,
    /// The clock the kernel stamps events with.
    pub event_clock: EventClock,
    /// Give each input's `glitch_us` to the kernel's debounce (`debounce_period_us`) instead of
    /// edgetap's own glitch filter.
    pub kernel_debounce: bool,
    /// Events the kernel buffers before it drops the oldest (1-1024). Unset: ~100 ms at the
    /// inputs' summed `max_edges_per_s`, at least 16 per line.
    pub event_buffer_size: Option<u32>,
}

/// Settings of the replay backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    /// VCD file whose wires named `gpio<N>` drive GPIO N; relative to the config file.
    pub signal: PathBuf,
    /// Pace samples to the wall clock; false replays as fast as possible.
    pub realtime: bool,
    /// Start over at the end of the file instead of stopping.
    #[serde(rename = "loop")]
    pub loop_: bool,
    /// UTC µs that VCD time 0 maps to; unset: the moment the replay starts.
    pub start_us: Option<u64>,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            signal: PathBuf::new(),
            realtime: true,
            loop_: false,
            start_us: None,
        }
    }
}

impl From<&SamplerConfig> for crate::hw::check::DmaSettings {
    fn from(s: &SamplerConfig) -> Self {
        crate::hw::check::DmaSettings {
            period_us: s.period_us,
            pacer: s.pacer,
            dma_channel: s.dma_channel,
            dma_memory: s.dma_memory,
        }
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
