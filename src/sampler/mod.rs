//! Samplers own the signal source (hardware, emulator or a replayed file) and produce blocks of
//! raw level words. They never allocate per sample and never parse edges.

pub mod dma;
pub mod replay;
pub mod ticks;

use crate::config::{Backend, Config};
use crate::shutdown::Shutdown;

/// Number of level words per sample: one covers GPIO 0–31 (GPLEV0), two add GPIO 32–53 (GPLEV1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelWords {
    /// GPLEV0 only.
    One = 1,
    /// GPLEV0 and GPLEV1.
    Two = 2,
}

impl LevelWords {
    /// The width needed to watch every pin in `pins`.
    pub fn for_pins(pins: impl IntoIterator<Item = u8>) -> Self {
        if pins.into_iter().any(|p| p >= 32) {
            LevelWords::Two
        } else {
            LevelWords::One
        }
    }

    /// Words per sample as a count.
    pub fn count(self) -> usize {
        self as usize
    }
}

/// Samples taken at a fixed period between two timer reads: the unit a sampler hands on.
///
/// Sample `i` was taken at `t0_us + i * period_us`. With two words per sample, `levels` holds
/// `[lev0(0), lev1(0), lev0(1), lev1(1), ...]`, exactly as the DMA engine writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// UTC µs of the first sample of the block.
    pub t0_us: u64,
    /// Microseconds between two samples.
    pub period_us: u32,
    /// Level words per sample.
    pub words: LevelWords,
    /// Level words, `words` per sample, sample-major.
    pub levels: Vec<u32>,
    /// Samples lost between the previous block and this one (overrun or restart); 0 normally.
    pub lost_before: u64,
}

impl Block {
    /// An empty block ready to be filled by a sampler.
    pub fn new(period_us: u32, words: LevelWords) -> Self {
        Block {
            t0_us: 0,
            period_us,
            words,
            levels: Vec::new(),
            lost_before: 0,
        }
    }

    /// Number of samples in the block.
    pub fn samples(&self) -> usize {
        self.levels.len() / self.words.count()
    }

    /// UTC µs of sample `i`.
    pub fn time_of(&self, i: usize) -> u64 {
        self.t0_us + i as u64 * u64::from(self.period_us)
    }

    /// UTC µs just after the last sample: the time the next block starts at when nothing is lost.
    pub fn end_us(&self) -> u64 {
        self.time_of(self.samples())
    }

    /// Sample `i` as a 64-bit word: GPIO n is bit n.
    pub fn sample(&self, i: usize) -> u64 {
        match self.words {
            LevelWords::One => u64::from(self.levels[i]),
            LevelWords::Two => {
                u64::from(self.levels[2 * i]) | (u64::from(self.levels[2 * i + 1]) << 32)
            }
        }
    }
}

/// Why a sampler stopped producing blocks.
#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    /// The replayed signal could not be read or parsed.
    #[error("signal {path}: {source}")]
    Signal {
        /// The signal file.
        path: String,
        /// What went wrong.
        #[source]
        source: crate::vcd::VcdError,
    },
    /// An I/O error from the signal source.
    #[error("sampler I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The DMA hardware (or emulated board) failed.
    #[error(transparent)]
    Hardware(#[from] crate::hw::HwError),
    /// The emulated board could not be started or attached to.
    #[error("emulated board: {0}")]
    Emulator(String),
    /// The sampler's settings cannot be used (names the key and the reason).
    #[error("{field}: {reason}")]
    Settings {
        /// Config key at fault.
        field: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// A source of sample blocks.
pub trait Sampler: Send {
    /// Fills `block` (reusing its buffer) with the next block of samples.
    ///
    /// Returns `Ok(false)` when the source has ended or `shutdown` was triggered while waiting.
    fn next_block(&mut self, block: &mut Block, shutdown: &Shutdown) -> Result<bool, SamplerError>;

    /// The sample period in µs.
    fn period_us(&self) -> u32;

    /// Level words per sample this sampler produces.
    fn words(&self) -> LevelWords;

    /// What is sampled, for people and dashboards (the `info` topic, Home Assistant's device
    /// model): the board model for DMA, the emulated board + " (emulated)", "replay".
    fn model(&self) -> String;

    /// Trouble counted so far (restarts, overruns); zero for samplers that cannot have any.
    fn counters(&self) -> SamplerCounters {
        SamplerCounters::default()
    }
}

/// Trouble a hardware sampler met and recovered from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SamplerCounters {
    /// The DMA channel stopped by itself and was restarted.
    pub restarts: u64,
    /// The consumer was lapped and samples were overwritten.
    pub overruns: u64,
}

/// Opens the sampler `config.sampler.backend` names, sized for the watched pins.
pub fn open(config: &Config) -> Result<Box<dyn Sampler>, SamplerError> {
    let s = &config.sampler;
    let words = LevelWords::for_pins(config.pins());
    match s.backend {
        Backend::Replay => {
            let trace = replay::ReplaySampler::load(&s.replay)?;
            warn_uncovered(&s.replay.signal, &trace, config);
            Ok(Box::new(replay::ReplaySampler::from_trace(
                trace,
                &s.replay,
                s.period_us,
                s.block_samples,
                words,
            )?))
        }
        Backend::Emulated | Backend::Dma => Ok(Box::new(dma::DmaSampler::open(config)?)),
    }
}

/// Warns when the replayed or emulated `signal` leaves watched pins undriven: they would
/// look like quiet inputs.
pub(crate) fn warn_uncovered(signal: &std::path::Path, trace: &crate::vcd::Trace, config: &Config) {
    if let Some(problem) = crate::vcd::uncovered(trace, config.pins()) {
        tracing::warn!(signal = %signal.display(), "{problem}");
    }
}
