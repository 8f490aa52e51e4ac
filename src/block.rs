//! The data a sampler hands to the decoder: blocks of raw level words, sampled at a fixed period.
//!
//! A leaf: the hardware chain (which lays out where the DMA engine writes them), the samplers
//! (which fill them) and the decoder (which scans them) all meet here without importing each
//! other.

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
