//! Inverted inputs: the logical level of a pin is the inverse of its electrical level (a
//! normally-closed contact, an open-collector output). Applied to raw edges right after
//! decoding, so filters, edges, levels and everything after them see only logical levels.

use super::{EdgeChunk, PinLevel};

/// The set of inverted pins (bit n = GPIO n).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inversion {
    mask: u64,
}

impl Inversion {
    /// Inverts the pins listed.
    pub fn of(pins: impl IntoIterator<Item = u8>) -> Self {
        Inversion {
            mask: pins.into_iter().fold(0, |m, p| m | 1u64 << (p & 63)),
        }
    }

    /// The inverted pins as a mask (bit n = GPIO n).
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// Whether `pin` is inverted.
    pub fn inverts(&self, pin: u8) -> bool {
        self.mask >> (pin & 63) & 1 == 1
    }

    /// The logical level of `pin` at electrical `level` (0 or 1).
    pub fn level(&self, pin: u8, level: u8) -> u8 {
        (level & 1) ^ u8::from(self.inverts(pin))
    }

    /// Turns the electrical levels of `levels` into logical ones.
    pub fn apply_levels(&self, levels: &mut [PinLevel]) {
        for l in levels {
            l.level = self.level(l.pin, l.level);
        }
    }

    /// Turns a chunk of electrical edges and levels into logical ones (same times, same order:
    /// an inverted pin changes exactly when its pin does).
    pub fn apply(&self, chunk: &mut EdgeChunk) {
        if self.mask == 0 {
            return;
        }
        if let Some(initial) = chunk.initial.as_mut() {
            self.apply_levels(initial);
        }
        for e in &mut chunk.edges {
            e.level = self.level(e.pin, e.level);
        }
    }

    /// Pins whose inversion differs between `self` and `new` (their logical level flips).
    pub fn changed(&self, new: &Inversion) -> u64 {
        self.mask ^ new.mask
    }
}

#[cfg(test)]
#[path = "invert_tests.rs"]
mod tests;
