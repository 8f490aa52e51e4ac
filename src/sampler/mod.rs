//! Samplers own the signal source (hardware, emulator or a replayed file) and produce blocks of
//! raw level words. They never allocate per sample and never parse edges.

pub mod cdev;
pub mod dma;
mod edges;
pub mod replay;
mod settings;
pub mod ticks;

pub use crate::block::{Block, LevelWords};
use crate::hw::pull::Pull;
use crate::shutdown::Shutdown;
pub use edges::{EdgeSource, Source};
pub use settings::{Backend, CdevConfig, ReplayConfig, SamplerConfig, DEFAULT_BLOCK_MS};

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

    /// Gives the pads of `pulls` their pull resistors (pins at [`Pull::Keep`] are left alone).
    /// Samplers that do not reach the pads (replay) ignore it.
    fn set_pulls(&mut self, pulls: &[(u8, Pull)]) -> Result<(), SamplerError> {
        let _ = pulls;
        Ok(())
    }
}

/// Trouble a hardware sampler met and recovered from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SamplerCounters {
    /// The DMA channel stopped by itself and was restarted.
    pub restarts: u64,
    /// The consumer was lapped and samples were overwritten.
    pub overruns: u64,
    /// Blocks the engine took measurably longer than `block_samples × period` for (the period
    /// is shorter than the board sustains): their samples were not at the period, and the
    /// missing time is reported as a gap before the next block.
    pub late_blocks: u64,
    /// The engine made no progress for several block times (a lost DREQ) and was restarted.
    pub stalls: u64,
}

/// What a sampler is opened with: its settings, and the level words the watched pins need.
///
/// The config converts into it (`sampler::open(&config)`), so this layer needs no config.
#[derive(Debug, Clone)]
pub struct SamplerSpec<'a> {
    /// The `[sampler]` settings.
    pub settings: &'a SamplerConfig,
    /// Level words per sample: enough for every watched pin.
    pub words: LevelWords,
    /// The watched pins (a replayed or emulated signal that drives none of them is warned about).
    pub pins: Vec<u8>,
    /// The pull each watched pin asks for, set on the pads before sampling starts.
    pub pulls: Vec<(u8, Pull)>,
    /// Where the DMA backends record their chain, so a run killed with SIGKILL is cleaned up
    /// by the next start.
    pub state_dir: &'a std::path::Path,
    /// The character-device backend: each watched line and the flags it is requested with.
    pub lines: Vec<crate::hw::lineplan::LineSpec>,
    /// The character-device backend: the inputs' summed `max_edges_per_s`, which sizes the
    /// kernel's event buffer.
    pub max_edges_per_s: u64,
}

/// Opens the source `spec.settings.backend` names: a sampler, or an edge source (`cdev`).
pub fn open_source<'a>(spec: impl Into<SamplerSpec<'a>>) -> Result<Source, SamplerError> {
    let spec = spec.into();
    match spec.settings.backend {
        Backend::Cdev => Ok(Source::Edges(Box::new(cdev::CdevSource::open(
            spec.settings,
            &spec.lines,
            spec.max_edges_per_s,
        )?))),
        _ => open(spec).map(Source::Blocks),
    }
}

/// Opens the sampler `spec.settings.backend` names, sized for the watched pins. The `cdev`
/// backend delivers edges, not blocks: it is opened by [`open_source`].
pub fn open<'a>(spec: impl Into<SamplerSpec<'a>>) -> Result<Box<dyn Sampler>, SamplerError> {
    let SamplerSpec {
        settings: s,
        words,
        pins,
        pulls,
        state_dir,
        ..
    } = spec.into();
    match s.backend {
        Backend::Replay => {
            if pulls.iter().any(|(_, p)| *p != Pull::Keep) {
                tracing::info!("replay: inputs' pull settings have no pads to act on");
            }
            let trace = replay::ReplaySampler::load(&s.replay)?;
            warn_uncovered(&s.replay.signal, &trace, &pins);
            Ok(Box::new(replay::ReplaySampler::from_trace(
                trace,
                &s.replay,
                s.period_us,
                s.samples_per_block(),
                words,
            )?))
        }
        Backend::Emulated | Backend::Dma => Ok(Box::new(dma::DmaSampler::open(
            s, words, &pins, &pulls, state_dir,
        )?)),
        Backend::Cdev => Err(SamplerError::Settings {
            field: "sampler.backend".into(),
            reason: "\"cdev\" delivers edges, not sample blocks: this command needs a sampler \
                     (dma, emulated or replay)"
                .into(),
        }),
    }
}

/// Warns when the replayed or emulated `signal` leaves watched pins undriven: they would
/// look like quiet inputs.
pub(crate) fn warn_uncovered(signal: &std::path::Path, trace: &crate::vcd::Trace, pins: &[u8]) {
    if let Some(problem) = crate::vcd::uncovered(trace, pins.iter().copied()) {
        tracing::warn!(signal = %signal.display(), "{problem}");
    }
}
