//! The decoder: a pure scan of a block for samples that differ from their predecessor on watched
//! pins.

use super::{Edge, PinLevel};
use crate::sampler::Block;

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

    /// The watched pins as a bit mask (bit n = GPIO n).
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// Levels of the watched pins in the last sample seen, or `None` before the first block.
    pub fn levels(&self) -> Option<Vec<PinLevel>> {
        let last = self.last?;
        Some(
            (0..64u8)
                .filter(|p| self.mask >> p & 1 == 1)
                .map(|pin| PinLevel {
                    pin,
                    level: (last >> pin & 1) as u8,
                })
                .collect(),
        )
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
        let mut start = 0;
        let mut last = match self.last {
            Some(l) => l,
            None => {
                start = 1;
                block.sample(0) & self.mask
            }
        };
        for i in start..n {
            let s = block.sample(i) & self.mask;
            let mut changed = s ^ last;
            if changed != 0 {
                let t_us = block.time_of(i);
                while changed != 0 {
                    let pin = changed.trailing_zeros() as u8;
                    out.push(Edge {
                        pin,
                        level: (s >> pin & 1) as u8,
                        t_us,
                    });
                    changed &= changed - 1;
                }
                last = s;
            }
        }
        self.last = Some(last);
    }
}
