//! Driving a GPIO as an output, for the loopback selftest: function select (GPFSEL), output
//! set and clear (GPSET/GPCLR) and the level (GPLEV).
//!
//! The layout, from the BCM2835 ARM Peripherals datasheet and pigpio.c (whose register indices
//! × 4 are these offsets: GPFSEL0 0, GPSET0 7, GPSET1 8, GPCLR0 10, GPCLR1 11, GPLEV0 13):
//! three function bits per pin, ten pins per GPFSEL register (GPIO n in GPFSEL(n / 10) at bit
//! 3 × (n % 10)); one bit per pin in the set, clear and level banks of 32 (GPIO n in bank
//! n / 32, bit n % 32). Function codes: 0 input, 1 output, 4–7 ALT0–3, 3 ALT4, 2 ALT5.
//!
//! The arithmetic here is pure; every access goes through [`Words`] (aligned 32-bit volatile),
//! so the same code runs on `/dev/mem`, the emulated board and a test recorder. Claiming a pin
//! (and giving it back however the process ends) is `gpio_claim`'s.

use std::fmt;

use super::access::Words;
use super::mmio::{Mapping, PhysMem};
use super::regs::{field, gpio};
use super::HwError;

/// Highest GPIO number of any supported SoC (BCM2711: 58 GPIOs).
pub const MAX_GPIO: u8 = 57;
/// Bytes of the GPIO block mapped for output work (function select up to the level banks).
const GPIO_MAP_LEN: usize = 0x40;
/// Width of one pin's function field.
const FSEL_BITS: u32 = 3;

/// What a pin's GPFSEL field selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// Input (the reset state of most pins).
    Input,
    /// Output, driven from GPSET/GPCLR.
    Output,
    /// Alternate function 0–5: a peripheral (UART, SPI, PWM, …) owns the pin.
    Alt(u8),
}

impl Function {
    /// The function a 3-bit GPFSEL code selects.
    pub const fn from_bits(bits: u32) -> Function {
        match bits & 0b111 {
            0 => Function::Input,
            1 => Function::Output,
            4 => Function::Alt(0),
            5 => Function::Alt(1),
            6 => Function::Alt(2),
            7 => Function::Alt(3),
            3 => Function::Alt(4),
            _ => Function::Alt(5),
        }
    }

    /// The 3-bit GPFSEL code of this function.
    pub const fn bits(self) -> u32 {
        match self {
            Function::Input => 0,
            Function::Output => 1,
            Function::Alt(0) => 4,
            Function::Alt(1) => 5,
            Function::Alt(2) => 6,
            Function::Alt(3) => 7,
            Function::Alt(4) => 3,
            Function::Alt(_) => 2,
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Function::Input => f.write_str("input"),
            Function::Output => f.write_str("output"),
            Function::Alt(n) => write!(f, "ALT{n}"),
        }
    }
}

/// Offset (in the GPIO block) of the GPFSEL register holding `pin`'s function.
pub const fn fsel_offset(pin: u8) -> u64 {
    gpio::GPFSEL0 + 4 * (pin / 10) as u64
}

/// Bit position of `pin`'s function field in its GPFSEL register.
pub const fn fsel_shift(pin: u8) -> u32 {
    (pin % 10) as u32 * FSEL_BITS
}

/// Byte distance of `pin`'s bank from bank 0 (GPSET1 = GPSET0 + 4, and so on).
pub const fn bank_offset(pin: u8) -> u64 {
    (pin / 32) as u64 * 4
}

/// `pin`'s bit in its set, clear or level bank.
pub const fn bit(pin: u8) -> u32 {
    1 << (pin % 32)
}

/// Offset of the register that sets (`high`) or clears `pin`'s output latch.
pub const fn drive_offset(pin: u8, high: bool) -> u64 {
    (if high { gpio::GPSET0 } else { gpio::GPCLR0 }) + bank_offset(pin)
}

/// GPFSEL value `reg` with `pin`'s field replaced by `f`, the other nine pins untouched.
pub const fn with_function(reg: u32, pin: u8, f: Function) -> u32 {
    let shift = fsel_shift(pin);
    (reg & !(0b111 << shift)) | (f.bits() << shift)
}

/// `pin`'s function now.
pub fn function(gpio: &impl Words, pin: u8) -> Function {
    let reg = gpio.read32(fsel_offset(pin));
    Function::from_bits(field(reg, fsel_shift(pin), FSEL_BITS))
}

/// Selects function `f` for `pin` (read-modify-write: the register holds nine other pins).
pub fn set_function(gpio: &impl Words, pin: u8, f: Function) {
    let off = fsel_offset(pin);
    gpio.write32(off, with_function(gpio.read32(off), pin, f));
}

/// Sets (`high`) or clears `pin`'s output latch: one write of its bit, no read (the set and
/// clear registers act only on the bits written as 1).
pub fn drive(gpio: &impl Words, pin: u8, high: bool) {
    gpio.write32(drive_offset(pin, high), bit(pin));
}

/// `pin`'s level as GPLEV reads it.
pub fn level(gpio: &impl Words, pin: u8) -> bool {
    gpio.read32(gpio::GPLEV0 + bank_offset(pin)) & bit(pin) != 0
}

/// Puts `pin` back as it was: an output gets its old level first, then the old function.
pub fn restore(gpio: &impl Words, pin: u8, was: Function, level: bool) {
    if was == Function::Output {
        drive(gpio, pin, level);
    }
    set_function(gpio, pin, was);
}

/// Makes `pin` an output driven low: the latch is cleared first, so the pin never drives a
/// stale high the moment it becomes an output.
pub fn make_output(gpio: &impl Words, pin: u8) {
    drive(gpio, pin, false);
    set_function(gpio, pin, Function::Output);
}

/// Checks that `pin` may be wired to an output: an input. Refuses an output (the wire would
/// short two drivers) and an alternate function (a peripheral owns the pin).
pub fn check_input(gpio: &impl Words, pin: u8) -> Result<(), HwError> {
    check_pin(pin)?;
    match function(gpio, pin) {
        Function::Input => Ok(()),
        f => Err(HwError::Settings {
            field: "--loopback".into(),
            reason: format!(
                "GPIO {pin} (IN) is {f}: wired to an output it would {}; it must be an input",
                if f == Function::Output {
                    "short two drivers"
                } else {
                    "fight the peripheral that owns it"
                }
            ),
        }),
    }
}

/// Refuses a GPIO number no supported SoC has.
pub(super) fn check_pin(pin: u8) -> Result<(), HwError> {
    if pin > MAX_GPIO {
        return Err(HwError::Settings {
            field: "--loopback".into(),
            reason: format!("GPIO {pin} does not exist (0-{MAX_GPIO})"),
        });
    }
    Ok(())
}

/// Maps the GPIO block of a SoC whose peripherals start at physical `periph_base`.
pub fn map(mem: &PhysMem, periph_base: u64) -> Result<Mapping, HwError> {
    mem.map(periph_base + gpio::BASE, GPIO_MAP_LEN)
}

#[cfg(test)]
#[path = "gpio_out_tests.rs"]
mod tests;
