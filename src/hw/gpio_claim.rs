//! A pin claimed as an output ([`OutputPin`]), and given its previous function back however
//! the process ends: when the claim drops (errors, panics), and from the teardown's signal
//! handlers (SIGINT/TERM/HUP/QUIT and the crash signals), where no Rust reference can be
//! reached: claimed pins are registered here by address, and [`restore_all`] is
//! async-signal-safe (atomics and volatile accesses only). Restoring twice is harmless.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::access::Words;
use super::gpio_out::{check_pin, drive, function, level, make_output, restore, Function};
use super::mmio::Mapping;
use super::teardown;
use super::HwError;

/// Pins that may be claimed at once (the selftest claims one).
const SLOTS: usize = 2;
/// A slot being filled: taken, but not yet readable by a handler.
const FILLING: usize = 1;

/// Address of the claimed pin's GPIO block mapping; 0 = free, [`FILLING`] = being filled.
static BASES: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
/// The claimed pin and what to restore: pin | function code << 8 | old level << 16.
static CLAIMS: [AtomicU32; SLOTS] = [const { AtomicU32::new(0) }; SLOTS];

/// Registers `pin` of the GPIO block `gpio` to be restored to `was` (and `level`, for an
/// output) from a signal handler; returns its slot. Installs the teardown's handlers.
fn register(gpio: &Mapping, pin: u8, was: Function, level: bool) -> Result<usize, HwError> {
    teardown::install()?;
    teardown::on_signal(restore_all);
    let claim = u32::from(pin) | was.bits() << 8 | u32::from(level) << 16;
    for (slot, base) in BASES.iter().enumerate() {
        if base
            .compare_exchange(0, FILLING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            CLAIMS[slot].store(claim, Ordering::SeqCst);
            base.store(gpio.base_addr(), Ordering::SeqCst);
            return Ok(slot);
        }
    }
    Err(HwError::Device(format!(
        "more than {SLOTS} GPIO pins claimed as outputs"
    )))
}

/// Forgets slot `slot` (its pin was restored by the claim's drop).
fn unregister(slot: usize) {
    BASES[slot].store(0, Ordering::SeqCst);
}

/// Restores every claimed pin; returns whether there was one. Called by the signal handlers.
pub fn restore_all() -> bool {
    let mut any = false;
    for (slot, base) in BASES.iter().enumerate() {
        let addr = base.load(Ordering::SeqCst);
        if addr <= FILLING {
            continue;
        }
        let claim = CLAIMS[slot].load(Ordering::SeqCst);
        let pin = (claim & 0xFF) as u8;
        let was = Function::from_bits(claim >> 8);
        let level = claim >> 16 & 1 == 1;
        restore(&RawGpio(addr), pin, was, level);
        any = true;
    }
    any
}

/// A registered GPIO block by address.
struct RawGpio(usize);

impl Words for RawGpio {
    fn read32(&self, offset: u64) -> u32 {
        // SAFETY: the address was registered from a live Mapping of the GPIO block that stays
        // mapped until its claim unregisters it; `gpio_out::restore` touches only the GPFSEL
        // and GPSET/GPCLR words, all aligned and inside that mapping.
        unsafe { std::ptr::read_volatile((self.0 + offset as usize) as *const u32) }
    }

    fn write32(&self, offset: u64, value: u32) {
        // SAFETY: as in read32.
        unsafe { std::ptr::write_volatile((self.0 + offset as usize) as *mut u32, value) }
    }
}

/// A pin claimed as an output, driven low at first. Dropping it restores the pin's previous
/// function (and level, if it was an output); so do the signal handlers while it is claimed.
#[derive(Debug)]
pub struct OutputPin {
    gpio: Mapping,
    pin: u8,
    was: Function,
    level_before: bool,
    slot: usize,
}

impl OutputPin {
    /// Claims `pin` of the GPIO block `gpio` as an output driven low. Refused when a peripheral
    /// owns the pin (an ALT function): driving it would fight that peripheral.
    pub fn claim(gpio: Mapping, pin: u8) -> Result<OutputPin, HwError> {
        check_pin(pin)?;
        let was = function(&gpio, pin);
        if let Function::Alt(_) = was {
            return Err(HwError::Settings {
                field: "--loopback".into(),
                reason: format!(
                    "GPIO {pin} (OUT) is {was}: a peripheral owns it; wire a free pin instead"
                ),
            });
        }
        let level_before = level(&gpio, pin);
        // Registered before the first write, so a signal from here on puts the pin back.
        let slot = register(&gpio, pin, was, level_before)?;
        make_output(&gpio, pin);
        Ok(OutputPin {
            gpio,
            pin,
            was,
            level_before,
            slot,
        })
    }

    /// Drives the pin high or low.
    pub fn drive(&self, high: bool) {
        drive(&self.gpio, self.pin, high);
    }

    /// The pin's number.
    pub fn pin(&self) -> u8 {
        self.pin
    }

    /// The function the pin had before the claim (and gets back on drop).
    pub fn was(&self) -> Function {
        self.was
    }

    /// The GPIO block (for reading other pins' functions and levels).
    pub fn gpio(&self) -> &Mapping {
        &self.gpio
    }
}

impl Drop for OutputPin {
    fn drop(&mut self) {
        restore(&self.gpio, self.pin, self.was, self.level_before);
        // After the restore, before the mapping goes: a handler may run the restore once more.
        unregister(self.slot);
    }
}

/// Serialises the unit tests that claim pins: `restore_all` in one must not restore another's.
#[cfg(test)]
pub(crate) static CLAIM_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
#[path = "gpio_claim_tests.rs"]
mod tests;
