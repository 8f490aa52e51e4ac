//! GPIO outputs and jumper wires on the emulated board.
//!
//! A pin whose GPFSEL field selects output drives its level from the output latch, which
//! GPSET/GPCLR writes set and clear; `sampler.emulated.loopback` pairs wire an output pin to an
//! input pin, whose level then follows the output's. The writes take effect when the emulator
//! looks at the registers (its own timing, not the writer's idea of when it wrote), and the
//! `loopback_drop_every` fault loses every Nth pulse on a wire.
//!
//! GPSET/GPCLR are write-only on silicon (they read 0): the emulator takes a non-zero word as
//! the write, applies it and zeroes the word. Two writes to the same register between two
//! looks are seen as one (the board file cannot tell them apart); a set and a clear of the
//! same pin between two looks are applied set first.

use crate::hw::access::Words;
use crate::hw::gpio_out::{self, Function, MAX_GPIO};
use crate::hw::regs::gpio;

/// GPFSEL registers (GPIO 0–57, ten per register).
const FSEL_REGS: u64 = (MAX_GPIO as u64) / 10 + 1;

/// One jumper wire from an output pin to an input pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wire {
    out: u8,
    inp: u8,
    /// Pulses (rising edges of the driven level) seen on `out` so far.
    pulses: u64,
    /// The current pulse is lost on the wire (the fault).
    dropping: bool,
    /// `out`'s driven level at the last look.
    last: bool,
}

/// The outputs and wires of the board.
#[derive(Debug, Clone, Default)]
pub struct Wires {
    /// Output latch, bit n = GPIO n (set by GPSET, cleared by GPCLR).
    latch: u64,
    /// Pins whose function is output, bit n = GPIO n.
    outputs: u64,
    wires: Vec<Wire>,
    /// Lose every Nth pulse on each wire; 0: none.
    drop_every: u32,
}

impl Wires {
    /// Wires `pairs` of [out, in] pins, losing every `drop_every`th pulse on each (0: none).
    /// Pairs naming a pin the board cannot have are left out (the config refuses them).
    pub fn new(pairs: &[[u8; 2]], drop_every: u32) -> Wires {
        Wires {
            wires: pairs
                .iter()
                .filter(|[o, i]| *o <= MAX_GPIO && *i <= MAX_GPIO && o != i)
                .map(|&[out, inp]| Wire {
                    out,
                    inp,
                    pulses: 0,
                    dropping: false,
                    last: false,
                })
                .collect(),
            drop_every,
            ..Wires::default()
        }
    }

    /// Takes in what the CPU wrote to the GPIO block `regs` (at offset 0): function selects,
    /// then pending set and clear writes (zeroed once applied, as the registers read 0).
    pub fn poll(&mut self, regs: &impl Words) {
        self.outputs = 0;
        for r in 0..FSEL_REGS {
            let word = regs.read32(gpio::GPFSEL0 + 4 * r);
            for k in 0..10u8 {
                let pin = r as u8 * 10 + k;
                let code = word >> gpio_out::fsel_shift(pin) & 0b111;
                if pin <= MAX_GPIO && Function::from_bits(code) == Function::Output {
                    self.outputs |= 1 << pin;
                }
            }
        }
        for (set, clr, shift) in [
            (gpio::GPSET0, gpio::GPCLR0, 0),
            (gpio::GPSET1, gpio::GPCLR1, 32),
        ] {
            let s = regs.read32(set);
            if s != 0 {
                self.latch |= u64::from(s) << shift;
                regs.write32(set, 0);
            }
            let c = regs.read32(clr);
            if c != 0 {
                self.latch &= !(u64::from(c) << shift);
                regs.write32(clr, 0);
            }
        }
        self.follow();
    }

    /// Updates each wire's pulse count and the drop fault from its output's driven level.
    fn follow(&mut self) {
        let driven = self.latch & self.outputs;
        for w in &mut self.wires {
            let level = driven >> w.out & 1 == 1;
            if level && !w.last {
                w.pulses += 1;
                w.dropping = self.drop_every > 0 && w.pulses % u64::from(self.drop_every) == 0;
            } else if !level {
                w.dropping = false;
            }
            w.last = level;
        }
    }

    /// The levels GPLEV reads (bit n = GPIO n), given what the signal drives: outputs read
    /// their latch, and an input wired to an output reads what that output drives (unless the
    /// fault is losing the current pulse). An input wired to a pin that is not an output
    /// floats: it reads what the signal says.
    pub fn levels(&self, signal: u64) -> u64 {
        let mut levels = (signal & !self.outputs) | (self.latch & self.outputs);
        for w in &self.wires {
            let out_bit = 1u64 << w.out;
            let in_bit = 1u64 << w.inp;
            if self.outputs & out_bit == 0 || self.outputs & in_bit != 0 {
                continue;
            }
            if self.latch & out_bit != 0 && !w.dropping {
                levels |= in_bit;
            } else {
                levels &= !in_bit;
            }
        }
        levels
    }

    /// Pulses seen on the output of each wire, in wiring order (for tests).
    #[cfg(test)]
    pub fn pulses(&self) -> Vec<u64> {
        self.wires.iter().map(|w| w.pulses).collect()
    }
}

#[cfg(test)]
#[path = "wires_tests.rs"]
mod tests;
