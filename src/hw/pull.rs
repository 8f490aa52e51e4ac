//! The pads' pull-up/pull-down resistors: what an input asks for ([`Pull`]), how each SoC encodes
//! it, and the register writes that set it.
//!
//! Two schemes exist (figures from the BCM2835 ARM Peripherals datasheet §6.1 and pigpio.c's
//! `gpioSetPullUpDown`):
//!
//! * BCM2835/6/7 ([`PullScheme::Clocked`]): write the control code to GPPUD (0 off, 1 down,
//!   2 up), wait 150 core cycles, assert the pins' bits in GPPUDCLK0/1, wait 150 cycles, then
//!   write GPPUD = 0 and GPPUDCLK = 0. A pad takes the code only on that clock pulse; the state
//!   cannot be read back.
//! * BCM2711 ([`PullScheme::Direct`]): GPIO_PUP_PDN_CNTRL_REG0–3, two bits per pin (16 pins per
//!   register), read back and written directly. The encoding differs: 0 none, 1 up, 2 down.
//!
//! Everything here except [`set_pulls`] is pure; `set_pulls` only goes through [`Words`], so a
//! recorder (tests) or the emulated board can check every access.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::access::Words;
use super::board::Soc;
use super::clock::HostClock;

/// What an input asks of its pad's pull resistor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pull {
    /// Pull-up (~50 kΩ to 3.3 V): an open contact to ground reads 1.
    Up,
    /// Pull-down (~50 kΩ to ground): an open contact to 3.3 V reads 0.
    Down,
    /// No pull: the pin floats unless something drives it.
    None,
    /// Leave the pad as it is (the board's reset default, or what another program set).
    #[default]
    Keep,
}

/// GPIO register offsets (from the GPIO block) of the pull registers.
pub mod regs {
    /// BCM2835/6/7: pull control code for the next clock pulse.
    pub const GPPUD: u64 = 0x94;
    /// BCM2835/6/7: pull clock, GPIO 0–31.
    pub const GPPUDCLK0: u64 = 0x98;
    /// BCM2835/6/7: pull clock, GPIO 32–53.
    pub const GPPUDCLK1: u64 = 0x9C;
    /// BCM2711: GPIO_PUP_PDN_CNTRL_REG0 (GPIO 0–15); REG1–3 follow at 4-byte steps.
    pub const PUP_PDN_CNTRL_REG0: u64 = 0xE4;
    /// BCM2711: number of PUP_PDN_CNTRL registers (GPIO 0–63, 2 bits each).
    pub const PUP_PDN_REGS: u64 = 4;
}

/// Core cycles the datasheet asks between GPPUD and the clock, and of clock hold.
pub const SETTLE_CYCLES: u64 = 150;
/// Those cycles in ns at the slowest core clock a Pi runs (250 MHz): what the emulated board
/// insists on.
pub const SETTLE_MIN_NS: u64 = SETTLE_CYCLES * 4;
/// What the agent waits for each settle. Far above the 0.6 µs needed (pigpio waits 1–20 µs),
/// and above the ~200 µs between two looks of the realtime emulated board at its registers,
/// so it sees every step; at most a few settles happen, at start and on a change.
pub const SETTLE: Duration = Duration::from_millis(1);

/// How a SoC sets its pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullScheme {
    /// GPPUD + GPPUDCLK0/1 (BCM2835/6/7).
    Clocked,
    /// GPIO_PUP_PDN_CNTRL_REG0–3 (BCM2711).
    Direct,
}

impl PullScheme {
    /// The scheme of `soc`; None for the BCM2712 (its pads sit behind RP1, out of reach here).
    pub fn of(soc: Soc) -> Option<PullScheme> {
        match soc {
            Soc::Bcm2835 | Soc::Bcm2836 | Soc::Bcm2837 => Some(PullScheme::Clocked),
            Soc::Bcm2711 => Some(PullScheme::Direct),
            Soc::Bcm2712 => None,
        }
    }
}

/// GPPUD's code for `p` (None for [`Pull::Keep`]: nothing is written).
pub const fn gppud_code(p: Pull) -> Option<u32> {
    match p {
        Pull::None => Some(0),
        Pull::Down => Some(1),
        Pull::Up => Some(2),
        Pull::Keep => None,
    }
}

/// What a GPPUD code asks for (3 is reserved: None).
pub const fn gppud_pull(code: u32) -> Option<Pull> {
    match code & 3 {
        0 => Some(Pull::None),
        1 => Some(Pull::Down),
        2 => Some(Pull::Up),
        _ => None,
    }
}

/// The BCM2711 PUP_PDN code for `p` (None for [`Pull::Keep`]).
pub const fn pup_pdn_code(p: Pull) -> Option<u32> {
    match p {
        Pull::None => Some(0),
        Pull::Up => Some(1),
        Pull::Down => Some(2),
        Pull::Keep => None,
    }
}

/// What a BCM2711 PUP_PDN code means (3 is reserved: None).
pub const fn pup_pdn_pull(code: u32) -> Option<Pull> {
    match code & 3 {
        0 => Some(Pull::None),
        1 => Some(Pull::Up),
        2 => Some(Pull::Down),
        _ => None,
    }
}

/// The GPPUDCLK register and bit of `pin`.
pub const fn clk_slot(pin: u8) -> (u64, u32) {
    (regs::GPPUDCLK0 + 4 * (pin as u64 / 32), 1 << (pin % 32))
}

/// The PUP_PDN_CNTRL register and bit shift of `pin`'s two bits.
pub const fn pup_pdn_slot(pin: u8) -> (u64, u32) {
    (
        regs::PUP_PDN_CNTRL_REG0 + 4 * (pin as u64 / 16),
        2 * (pin as u32 % 16),
    )
}

/// The pull the pad of `pin` has after reset (datasheet table 6-31, "Pull" column; the same
/// for GPIO 0–27 on every Pi: 0–8 up, 9–27 down). [`Pull::None`] where the table has none.
pub const fn reset_default(pin: u8) -> Pull {
    match pin {
        0..=8 | 34..=36 | 46..=53 => Pull::Up,
        9..=27 | 30..=33 | 37..=43 => Pull::Down,
        _ => Pull::None,
    }
}

/// One step of setting pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStep {
    /// Store `value` at `offset`.
    Write {
        /// Register offset in the GPIO block.
        offset: u64,
        /// The value.
        value: u32,
    },
    /// Read `offset`, replace the bits of `mask` with `value`, write it back.
    Update {
        /// Register offset in the GPIO block.
        offset: u64,
        /// Bits replaced.
        mask: u32,
        /// Their new value (inside `mask`).
        value: u32,
    },
    /// Wait [`SETTLE`].
    Settle,
}

/// The register steps that give each pin of `pulls` its pull; [`Pull::Keep`] pins are left
/// alone (no step at all when every pin keeps). For one pin listed twice, the last wins.
pub fn plan(scheme: PullScheme, pulls: &[(u8, Pull)]) -> Vec<PullStep> {
    let mut last: Vec<(u8, Pull)> = Vec::new();
    for &(pin, pull) in pulls {
        last.retain(|(p, _)| *p != pin);
        if pull != Pull::Keep {
            last.push((pin, pull));
        }
    }
    match scheme {
        PullScheme::Clocked => clocked(&last),
        PullScheme::Direct => direct(&last),
    }
}

/// One GPPUD/GPPUDCLK sequence per code used, both clock banks in the same pulse.
fn clocked(pulls: &[(u8, Pull)]) -> Vec<PullStep> {
    let mut steps = Vec::new();
    for pull in [Pull::None, Pull::Down, Pull::Up] {
        let mut banks = [0u32; 2];
        for &(pin, _) in pulls.iter().filter(|(_, p)| *p == pull) {
            let (offset, bit) = clk_slot(pin);
            banks[((offset - regs::GPPUDCLK0) / 4) as usize & 1] |= bit;
        }
        if banks == [0, 0] {
            continue;
        }
        let clk = |bank: usize| regs::GPPUDCLK0 + 4 * bank as u64;
        let used: Vec<usize> = (0..2).filter(|&b| banks[b] != 0).collect();
        let code = gppud_code(pull).unwrap_or(0);
        steps.push(PullStep::Write {
            offset: regs::GPPUD,
            value: code,
        });
        steps.push(PullStep::Settle);
        for &b in &used {
            steps.push(PullStep::Write {
                offset: clk(b),
                value: banks[b],
            });
        }
        steps.push(PullStep::Settle);
        steps.push(PullStep::Write {
            offset: regs::GPPUD,
            value: 0,
        });
        for &b in &used {
            steps.push(PullStep::Write {
                offset: clk(b),
                value: 0,
            });
        }
    }
    steps
}

/// One read-modify-write per PUP_PDN register touched.
fn direct(pulls: &[(u8, Pull)]) -> Vec<PullStep> {
    let mut regs_used: Vec<(u64, u32, u32)> = Vec::new();
    for &(pin, pull) in pulls {
        let Some(code) = pup_pdn_code(pull) else {
            continue;
        };
        let (offset, shift) = pup_pdn_slot(pin);
        let i = match regs_used.iter().position(|r| r.0 == offset) {
            Some(i) => i,
            None => {
                regs_used.push((offset, 0, 0));
                regs_used.len() - 1
            }
        };
        let r = &mut regs_used[i];
        r.1 |= 3 << shift;
        r.2 = (r.2 & !(3 << shift)) | code << shift;
    }
    regs_used.sort_by_key(|r| r.0);
    regs_used
        .into_iter()
        .map(|(offset, mask, value)| PullStep::Update {
            offset,
            mask,
            value,
        })
        .collect()
}

/// Executes `steps` on the GPIO block `gpio`, waiting on `clock` at each settle.
pub fn run(gpio: &impl Words, clock: &dyn HostClock, steps: &[PullStep]) {
    for &step in steps {
        match step {
            PullStep::Write { offset, value } => gpio.write32(offset, value),
            PullStep::Update {
                offset,
                mask,
                value,
            } => {
                let old = gpio.read32(offset);
                gpio.write32(offset, (old & !mask) | (value & mask));
            }
            PullStep::Settle => clock.wait(SETTLE),
        }
    }
}

/// Gives each pin of `pulls` its pull on a SoC using `scheme` (planned, then run).
pub fn set_pulls(
    gpio: &impl Words,
    clock: &dyn HostClock,
    scheme: PullScheme,
    pulls: &[(u8, Pull)],
) {
    run(gpio, clock, &plan(scheme, pulls));
}

#[cfg(test)]
#[path = "pull_tests.rs"]
mod tests;
