//! The decoder: a pure scan of a block for samples that differ from their predecessor on watched
//! pins.

use super::{Edge, PinLevel};
use crate::sampler::{Block, LevelWords};

/// Finds edges on watched pins; remembers the last sample so blocks chain seamlessly.
#[derive(Debug, Clone)]
pub struct Decoder {
    mask: u64,
    last: Option<u64>,
}

impl Decoder {
    /// A decoder watching `pins` (GPIO numbers 0–63; higher bits are ignored).
    pub fn new(pins: impl IntoIterator<Item = u8>) -> Self {
        let mask = pins
            .into_iter()
            .filter(|&p| p < 64)
            .fold(0u64, |m, p| m | (1u64 << p));
        Decoder { mask, last: None }
    }

    /// Watches `pins` from now on, continuing from `last_word` (the raw last sample, bit n = GPIO
    /// n): pins watched before and after keep chaining seamlessly across the change.
    pub fn rewatch(&mut self, pins: impl IntoIterator<Item = u8>, last_word: Option<u64>) {
        self.mask = Decoder::new(pins).mask;
        self.last = last_word.map(|w| w & self.mask);
    }

    /// The watched pins as a bit mask (bit n = GPIO n).
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// Levels of the watched pins in the last sample seen, or `None` before the first block.
    pub fn levels(&self) -> Option<Vec<PinLevel>> {
        self.last.map(|word| self.levels_in(word))
    }

    /// Levels of the watched pins in one sample word (bit n = GPIO n).
    pub fn levels_in(&self, word: u64) -> Vec<PinLevel> {
        (0..64u8)
            .filter(|p| self.mask >> p & 1 == 1)
            .map(|pin| PinLevel {
                pin,
                level: (word >> pin & 1) as u8,
            })
            .collect()
    }

    /// Appends to `out` the edges in `block`, in sample order and, within a sample, pin order.
    ///
    /// The first sample ever seen only establishes the initial levels (see [`Decoder::levels`]).
    /// An edge is stamped with the time of the first sample that shows the new level.
    pub fn decode(&mut self, block: &Block, out: &mut Vec<Edge>) {
        let n = block.samples();
        if n == 0 {
            return;
        }
        let w = block.words.count();
        let levels = &block.levels[..n * w];
        let (last, first) = match self.last {
            Some(l) => (l, 0),
            None => (block.sample(0) & self.mask, 1),
        };
        let mut scan = Scan {
            mask: self.mask,
            last,
            t0_us: block.t0_us,
            period_us: u64::from(block.period_us),
            out,
        };
        match block.words {
            LevelWords::One => scan.run::<1>(levels, first),
            LevelWords::Two => scan.run::<2>(levels, first),
        }
        self.last = Some(scan.last);
    }
}

/// Samples compared in one go before any is looked at alone: a few vector registers' worth, and
/// short enough that a chunk holding one change costs little to walk.
const CHUNK_SAMPLES: usize = 32;

/// Level words a chunk test works on at once: one 256-bit or two 128-bit vectors.
const LANES: usize = 8;

// A chunk of one or two words per sample is whole lanes.
const _: () = assert!(CHUNK_SAMPLES % LANES == 0);

/// One sample's `W` level words as a 64-bit word (bit n = GPIO n).
fn word<const W: usize>(s: &[u32]) -> u64 {
    if W == 1 {
        u64::from(s[0])
    } else {
        u64::from(s[0]) | u64::from(s[1]) << 32
    }
}

/// `LANES` level words repeating the `W` words of `x`, as they lie in a block.
fn lanes<const W: usize>(x: u64) -> [u32; LANES] {
    std::array::from_fn(|j| (x >> (32 * (j % W))) as u32)
}

/// The state of one block's scan.
struct Scan<'a> {
    mask: u64,
    /// The watched bits of the last sample looked at.
    last: u64,
    t0_us: u64,
    period_us: u64,
    out: &'a mut Vec<Edge>,
}

impl Scan<'_> {
    /// Scans the samples of `levels` (`W` words each) from sample `first` on.
    ///
    /// Whole chunks whose watched bits all equal the last sample's are skipped after one
    /// vectorisable test; only a chunk where something changed is walked sample by sample.
    fn run<const W: usize>(&mut self, levels: &[u32], first: usize) {
        // The first sample may face a last sample of other width (a block of one word after
        // one of two): walk it alone so the chunks below only ever compare like with like.
        let Some(head) = levels.get(first * W..(first + 1) * W) else {
            return;
        };
        self.walk::<W>(head, first);
        let body = &levels[(first + 1) * W..];
        let chunk_words = CHUNK_SAMPLES * W;
        let chunks = body.chunks_exact(chunk_words);
        let tail = chunks.remainder();
        let mask = lanes::<W>(self.mask);
        let mut last = lanes::<W>(self.last);
        let mut i = first + 1;
        for chunk in chunks {
            if differs(chunk, &last, &mask) {
                self.walk::<W>(chunk, i);
                last = lanes::<W>(self.last);
            }
            i += CHUNK_SAMPLES;
        }
        self.walk::<W>(tail, i);
    }

    /// Looks at every sample of `levels` (`W` words each, the first being sample `i`), emitting
    /// the edges of each one whose watched bits differ from the last sample's.
    fn walk<const W: usize>(&mut self, levels: &[u32], mut i: usize) {
        for s in levels.chunks_exact(W) {
            let s = word::<W>(s) & self.mask;
            let mut changed = s ^ self.last;
            if changed != 0 {
                let t_us = self.t0_us + i as u64 * self.period_us;
                while changed != 0 {
                    let pin = changed.trailing_zeros() as u8;
                    self.out.push(Edge {
                        pin,
                        level: (s >> pin & 1) as u8,
                        t_us,
                    });
                    changed &= changed - 1;
                }
                self.last = s;
            }
            i += 1;
        }
    }
}

/// Whether any watched bit (`mask`, in lanes) of `chunk` differs from `last` (in lanes).
///
/// Plain array code over fixed-width lanes, which LLVM turns into vector XOR/AND/OR (SSE2 or
/// AVX on x86-64, NEON on the Pi) without `unsafe`.
fn differs(chunk: &[u32], last: &[u32; LANES], mask: &[u32; LANES]) -> bool {
    let mut acc = [0u32; LANES];
    for v in chunk.chunks_exact(LANES) {
        for j in 0..LANES {
            acc[j] |= v[j] ^ last[j];
        }
    }
    acc.iter().zip(mask).fold(0, |a, (x, m)| a | (x & m)) != 0
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
