//! The GPIO pads' pull resistors on the emulated board, and what a pin reads when the signal
//! leaves it at high impedance (a VCD `z`).
//!
//! The pulls are set through the same registers as on silicon, and as strictly:
//!
//! * Pi 1/3 (BCM2835/7): a pad takes GPPUD's code only on a GPPUDCLK0/1 pulse, and only when
//!   GPPUD held that code for at least 150 core cycles before the clock was seen, and the clock
//!   was held at least 150 cycles ([`SETTLE_MIN_NS`]). A clock written without the control, or
//!   removed too soon, is ignored (and logged as an event): on silicon its effect is undefined.
//! * Pi 4 (BCM2711): GPIO_PUP_PDN_CNTRL_REG0–3 take effect as written. They read back, so they
//!   start at the reset defaults and a read-modify-write keeps the other pins.
//!
//! The registers are plain memory in the board file: the pads see them when the machine looks
//! (between runs of control blocks), as a peripheral sees writes in emulated time.
//!
//! A floating pin reads 1 with a pull-up and 0 with a pull-down or with no pull (a documented
//! simplification: a real floating input reads whatever charge and noise make of it). Pads
//! start with their reset defaults ([`reset_default`]), which is what `pull = "keep"` leaves.
//! Only pins the signal puts at `z` float; pins the signal never names read 0 as before.

use crate::hw::board::BoardKind;
use crate::hw::mmio::{Mapping, PhysMem};
use crate::hw::pull::{
    clk_slot, gppud_pull, pup_pdn_code, pup_pdn_pull, pup_pdn_slot, regs, reset_default, Pull,
    SETTLE_MIN_NS,
};
use crate::hw::regs::gpio;
use crate::hw::HwError;
use crate::vcd::Cursor;

/// Setup and hold of the clocked scheme, in emulated ps.
const SETTLE_PS: u64 = SETTLE_MIN_NS * 1000;

/// Something the pads did, for the machine's event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PadEvent {
    /// A pad took a pull.
    Set {
        /// GPIO number.
        pin: u8,
        /// The pull it has now.
        pull: Pull,
    },
    /// A GPPUDCLK pulse on a pin had no effect.
    PulseIgnored {
        /// GPIO number.
        pin: u8,
        /// Why.
        why: &'static str,
    },
}

/// A clock pulse seen on one pin, waiting for its hold time.
#[derive(Debug, Clone, Copy)]
struct Pulse {
    pull: Pull,
    rise_ps: u64,
}

/// The pads of one board.
pub struct Pads {
    board: BoardKind,
    gpio: Mapping,
    /// Each pin's pull now ([`Pull::Keep`] never appears).
    pulls: [Pull; 64],
    /// The pins pulled up (bit n = GPIO n): what floating pins read as 1.
    up: u64,
    /// GPPUD's last code seen, and since when (ps).
    control: (u32, u64),
    /// GPPUDCLK0/1 as last seen.
    clocks: [u32; 2],
    /// Pulses seen and not yet held long enough.
    pulses: [Option<Pulse>; 64],
    /// Which pins the signal leaves floating, over time.
    floating: Option<Cursor>,
}

/// The pins of `pulls` pulled up, as a mask.
fn up_mask(pulls: &[Pull; 64]) -> u64 {
    (0..64)
        .filter(|&p| pulls[p] == Pull::Up)
        .fold(0u64, |m, p| m | 1 << p)
}

/// GPIOs the board has.
fn gpio_count(board: BoardKind) -> u8 {
    match board {
        BoardKind::Pi1 | BoardKind::Pi3 => 54,
        BoardKind::Pi4 => 58,
    }
}

impl Pads {
    /// The pads of `board` at reset, on the board file `mem`; `floating` says when the signal
    /// leaves pins at `z` ([`crate::vcd::Trace::floating_cursor`]).
    pub fn new(mem: &PhysMem, board: BoardKind, floating: Option<Cursor>) -> Result<Pads, HwError> {
        let base = super::board_file::periph_base(board);
        let gpio = mem.map(base + gpio::BASE, 0x100)?;
        let mut pulls = [Pull::None; 64];
        for pin in 0..gpio_count(board) {
            pulls[usize::from(pin)] = reset_default(pin);
        }
        if board == BoardKind::Pi4 {
            for pin in 0..gpio_count(board) {
                let (off, shift) = pup_pdn_slot(pin);
                let code = pup_pdn_code(pulls[usize::from(pin)]).unwrap_or(0);
                let v = gpio.read32(off);
                gpio.write32(off, (v & !(3 << shift)) | code << shift);
            }
        }
        Ok(Pads {
            board,
            gpio,
            up: up_mask(&pulls),
            pulls,
            control: (0, 0),
            clocks: [0; 2],
            pulses: [None; 64],
            floating,
        })
    }

    /// The pull of `pin` now.
    #[cfg(test)]
    pub fn pull(&self, pin: u8) -> Pull {
        self.pulls[usize::from(pin & 63)]
    }

    /// What the pins read at `t_fs` when the signal drives `driven` (bit n = GPIO n): floating
    /// pins read their pull instead.
    pub fn read(&mut self, driven: u64, t_fs: u128) -> u64 {
        let Some(f) = self.floating.as_mut().map(|c| c.level_at(t_fs)) else {
            return driven;
        };
        (driven & !f) | (self.up & f)
    }

    /// Looks at the pull registers at emulated time `now_ps`.
    pub fn poll(&mut self, now_ps: u64) -> Vec<PadEvent> {
        match self.board {
            BoardKind::Pi1 | BoardKind::Pi3 => self.poll_clocked(now_ps),
            BoardKind::Pi4 => self.poll_direct(),
        }
    }

    fn set(&mut self, pin: u8, pull: Pull, out: &mut Vec<PadEvent>) {
        self.pulls[usize::from(pin)] = pull;
        self.up = up_mask(&self.pulls);
        out.push(PadEvent::Set { pin, pull });
    }

    fn poll_direct(&mut self) -> Vec<PadEvent> {
        let mut out = Vec::new();
        let words: Vec<u32> = (0..regs::PUP_PDN_REGS)
            .map(|r| self.gpio.read32(regs::PUP_PDN_CNTRL_REG0 + 4 * r))
            .collect();
        for pin in 0..gpio_count(self.board) {
            let (off, shift) = pup_pdn_slot(pin);
            let word = words[((off - regs::PUP_PDN_CNTRL_REG0) / 4) as usize];
            let code = word >> shift & 3;
            // Code 3 is reserved: the pad keeps what it had.
            if let Some(p) = pup_pdn_pull(code) {
                if p != self.pulls[usize::from(pin)] {
                    self.set(pin, p, &mut out);
                }
            }
        }
        out
    }

    fn poll_clocked(&mut self, now: u64) -> Vec<PadEvent> {
        let mut out = Vec::new();
        let control = self.gpio.read32(regs::GPPUD) & 3;
        let control_changed = control != self.control.0;
        let clocks = [
            self.gpio.read32(regs::GPPUDCLK0),
            self.gpio.read32(regs::GPPUDCLK1) & ((1 << (54 - 32)) - 1),
        ];
        let clock_of = |pin: u8| {
            let (off, bit) = clk_slot(pin);
            clocks[((off - regs::GPPUDCLK0) / 4) as usize & 1] & bit != 0
        };
        // Pulses seen before: taken once held long enough, dropped if cut short.
        for pin in 0..gpio_count(self.board) {
            let Some(p) = self.pulses[usize::from(pin)] else {
                continue;
            };
            let held = now.saturating_sub(p.rise_ps) >= SETTLE_PS;
            if held {
                self.pulses[usize::from(pin)] = None;
                self.set(pin, p.pull, &mut out);
            } else if !clock_of(pin) || control_changed {
                self.pulses[usize::from(pin)] = None;
                out.push(PadEvent::PulseIgnored {
                    pin,
                    why: "clock or GPPUD changed less than 150 cycles after the clock",
                });
            }
        }
        if control_changed {
            self.control = (control, now);
        }
        let setup = !control_changed && now.saturating_sub(self.control.1) >= SETTLE_PS;
        for pin in 0..gpio_count(self.board) {
            let (off, bit) = clk_slot(pin);
            let bank = ((off - regs::GPPUDCLK0) / 4) as usize & 1;
            let rising = clocks[bank] & bit != 0 && self.clocks[bank] & bit == 0;
            if !rising {
                continue;
            }
            let why = match (setup, gppud_pull(control)) {
                (true, Some(pull)) => {
                    self.pulses[usize::from(pin)] = Some(Pulse { pull, rise_ps: now });
                    continue;
                }
                (false, _) => "clock asserted less than 150 cycles after GPPUD was written",
                (true, None) => "GPPUD holds the reserved code 3",
            };
            out.push(PadEvent::PulseIgnored { pin, why });
        }
        self.clocks = clocks;
        out
    }
}

#[cfg(test)]
#[path = "pads_tests.rs"]
mod tests;
