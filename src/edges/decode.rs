//! The decoder: a pure scan of a block for samples that differ from their predecessor on watched
//! pins.

use super::{Edge, PinLevel};
use crate::block::{Block, LevelWords};

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
        let scan = Scan {
            mask: self.mask,
            t0_us: block.t0_us,
            period_us: u64::from(block.period_us),
        };
        let last = match block.words {
            LevelWords::One => scan.run::<1>(levels, first, last, out),
            LevelWords::Two => scan.run::<2>(levels, first, last, out),
        };
        self.last = Some(last);
    }
}

/// Level words compared in one go before any sample is looked at alone (32 or 16 samples): a
/// few vector registers' worth, and short enough that a chunk holding one change costs little.
const CHUNK_WORDS: usize = 32;

/// Level words a vector test works on at once: one 256-bit or two 128-bit vectors.
const LANES: usize = 8;

/// Edges in a chunk (divided by words per sample) from which the next chunk is walked sample by
/// sample: walking costs less than finding the changed samples when half of them changed.
const BUSY_EDGES: usize = CHUNK_WORDS / 2;

// A chunk is whole lanes, and whole samples of one or two words.
const _: () = assert!(CHUNK_WORDS % LANES == 0 && LANES % 2 == 0);

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

/// What a block's scan needs besides the samples: the watched bits and the time axis.
///
/// The running state (the last sample's watched bits, the output) is passed by value and
/// argument, so the hot loops keep it in registers.
#[derive(Debug, Clone, Copy)]
struct Scan {
    mask: u64,
    t0_us: u64,
    period_us: u64,
}

impl Scan {
    /// Scans the samples of `levels` (`W` words each) from sample `first` on, after a sample
    /// whose watched bits were `last`; returns the watched bits of the last sample.
    ///
    /// A chunk whose samples all equal the sample before it on the watched bits is skipped after
    /// one vectorisable test; in a chunk where something changed, another vectorisable pass finds
    /// the samples that differ, and only those are looked at. After a chunk where most samples
    /// changed (dense edges) the next one is walked sample by sample, which is cheaper then.
    fn run<const W: usize>(
        self,
        levels: &[u32],
        first: usize,
        last: u64,
        out: &mut Vec<Edge>,
    ) -> u64 {
        // The first sample may face a last sample of other width (a block of one word after
        // one of two): walk it alone so the chunks below only ever compare like with like.
        let Some(head) = levels.get(first * W..(first + 1) * W) else {
            return last;
        };
        let mut last = self.walk::<W>(head, first, last, out);
        // Sample k of `body` follows sample k of `before`.
        let body = &levels[(first + 1) * W..];
        let before = &levels[first * W..levels.len() - W];
        let mut chunks = body.chunks_exact(CHUNK_WORDS);
        let mask = lanes::<W>(self.mask);
        let mut i = first + 1;
        // After a chunk where most samples changed, the next one is walked without tests.
        let mut busy = false;
        for (chunk, prev) in chunks.by_ref().zip(before.chunks_exact(CHUNK_WORDS)) {
            if busy {
                let edges = out.len();
                last = self.walk::<W>(chunk, i, last, out);
                busy = out.len() - edges >= BUSY_EDGES / W;
            } else if differs(chunk, &lanes::<W>(last), &mask) {
                let mut changed = 0;
                let groups = chunk.chunks_exact(LANES).zip(prev.chunks_exact(LANES));
                for (g, (cur, prev)) in groups.enumerate() {
                    let mut bits = changed_samples::<W>(cur, prev, &mask);
                    while bits != 0 {
                        let k = bits.trailing_zeros() as usize / W;
                        let s = word::<W>(&cur[k * W..]) & self.mask;
                        let p = word::<W>(&prev[k * W..]) & self.mask;
                        self.emit(s, s ^ p, i + g * (LANES / W) + k, out);
                        bits &= bits - 1;
                        changed += 1;
                    }
                }
                busy = changed >= BUSY_EDGES / W;
                last = word::<W>(&chunk[CHUNK_WORDS - W..]) & self.mask;
            }
            i += CHUNK_WORDS / W;
        }
        self.walk::<W>(chunks.remainder(), i, last, out)
    }

    /// Looks at every sample of `levels` (`W` words each, the first being sample `i`) after one
    /// whose watched bits were `last`, emitting the edges of each sample that differs from its
    /// predecessor; returns the watched bits of the last sample.
    fn walk<const W: usize>(
        self,
        levels: &[u32],
        mut i: usize,
        mut last: u64,
        out: &mut Vec<Edge>,
    ) -> u64 {
        for s in levels.chunks_exact(W) {
            let s = word::<W>(s) & self.mask;
            if s != last {
                self.emit(s, s ^ last, i, out);
                last = s;
            }
            i += 1;
        }
        last
    }

    /// Emits the edges of sample `i`, whose watched bits are `s`, on the pins set in `changed`.
    fn emit(self, s: u64, mut changed: u64, i: usize, out: &mut Vec<Edge>) {
        let t_us = self.t0_us + i as u64 * self.period_us;
        while changed != 0 {
            let pin = changed.trailing_zeros() as u8;
            out.push(Edge {
                pin,
                level: (s >> pin & 1) as u8,
                t_us,
                after_gap: false,
            });
            changed &= changed - 1;
        }
    }
}

/// The samples of `cur` (`LANES` words, `W` per sample) whose watched bits differ from `prev`'s
/// (the same words one sample earlier): sample k is bit `k * W`.
fn changed_samples<const W: usize>(cur: &[u32], prev: &[u32], mask: &[u32; LANES]) -> u32 {
    let mut bits = 0;
    for j in 0..LANES {
        bits |= u32::from((cur[j] ^ prev[j]) & mask[j] != 0) << j;
    }
    if W == 1 {
        bits
    } else {
        (bits | bits >> 1) & 0x55
    }
}

/// Whether any sample of `chunk` differs from `last` (the watched bits of the sample before the
/// chunk, repeated in lanes) on a watched bit (`mask`, in lanes): a chunk without an edge is one
/// where every sample equals the one before it.
///
/// Testing against the sample before the chunk rather than each sample's predecessor reads the
/// block once (one load per vector, as memcpy does) instead of twice. Plain array code over
/// fixed-width lanes, which LLVM turns into wide loads and XOR/OR (SSE2 vectors on x86-64, NEON
/// on the Pi) without `unsafe`.
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
