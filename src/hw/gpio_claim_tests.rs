//! Unit tests of `gpio_claim`.

use super::*;
use crate::hw::gpio_out::{map, with_function};
use crate::hw::mmio::PhysMem;
use crate::hw::regs::gpio;

/// A memory file reaching the GPIO block at peripheral base 0, as `/dev/mem` would map it.
fn gpio_file() -> (tempfile::NamedTempFile, PhysMem) {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    f.as_file().set_len(gpio::BASE + 4096).expect("size");
    let mem = PhysMem::open(f.path()).expect("open");
    (f, mem)
}

#[test]
fn a_signal_handler_restores_a_claimed_pin_and_forgets_it_after_the_drop() {
    let _serial = CLAIM_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let f = tempfile::NamedTempFile::new().expect("temp file");
    f.as_file().set_len(gpio::BASE + 4096).expect("size");
    let mem = PhysMem::open(f.path()).expect("open");
    let view = map(&mem, 0).expect("map");
    let before = with_function(0, 10, Function::Alt(0));
    view.write32(0x04, before);
    let pin = OutputPin::claim(map(&mem, 0).expect("map"), 18).expect("claim");
    assert_eq!(function(&view, 18), Function::Output);

    // What the handlers do (emergency): the pin is an input again, its neighbours untouched.
    assert!(restore_all());
    assert_eq!(view.read32(0x04), before);

    // Dropping restores again (harmless) and unregisters: a later signal touches nothing.
    view.write32(
        gpio::GPFSEL0 + 4,
        with_function(before, 18, Function::Output),
    );
    let addr = pin.gpio().base_addr();
    drop(pin);
    assert_eq!(view.read32(0x04), before);
    view.write32(0x04, with_function(before, 18, Function::Output));
    assert!(BASES.iter().all(|b| b.load(Ordering::SeqCst) != addr));
    restore_all();
    assert_eq!(function(&view, 18), Function::Output, "not ours any more");
}

#[test]
fn a_claimed_pin_gets_its_function_back_on_drop() {
    let _serial = CLAIM_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let (_f, mem) = gpio_file();
    let view = map(&mem, 0).expect("map");
    // GPIO 10 ALT0, 17 input, 18 input, 19 output: a realistic GPFSEL1.
    let before = with_function(with_function(0, 10, Function::Alt(0)), 19, Function::Output);
    view.write32(0x04, before);
    let pin = OutputPin::claim(map(&mem, 0).expect("map"), 18).expect("claim");
    assert_eq!(pin.was(), Function::Input);
    assert_eq!(function(&view, 18), Function::Output);
    assert_eq!(view.read32(0x28), 1 << 18, "driven low first");
    pin.drive(true);
    assert_eq!(view.read32(0x1C), 1 << 18);
    drop(pin);
    assert_eq!(
        view.read32(0x04),
        before,
        "GPIO 18 an input again, the others untouched"
    );
}

#[test]
fn a_pin_that_was_an_output_gets_its_level_back() {
    let _serial = CLAIM_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let (_f, mem) = gpio_file();
    let view = map(&mem, 0).expect("map");
    view.write32(0x04, with_function(0, 18, Function::Output));
    view.write32(gpio::GPLEV0, 1 << 18);
    let pin = OutputPin::claim(map(&mem, 0).expect("map"), 18).expect("claim");
    pin.drive(false);
    view.write32(gpio::GPSET0, 0);
    drop(pin);
    assert_eq!(function(&view, 18), Function::Output);
    assert_eq!(
        view.read32(gpio::GPSET0),
        1 << 18,
        "driven high again, as it was"
    );
}

#[test]
fn a_pin_a_peripheral_owns_is_refused_and_left_alone() {
    let _serial = CLAIM_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let (_f, mem) = gpio_file();
    let view = map(&mem, 0).expect("map");
    let alt5 = with_function(0, 18, Function::Alt(5));
    view.write32(0x04, alt5);
    let err = OutputPin::claim(map(&mem, 0).expect("map"), 18).unwrap_err();
    assert!(err.to_string().contains("GPIO 18 (OUT) is ALT5"), "{err}");
    assert_eq!(view.read32(0x04), alt5);
    assert_eq!(view.read32(0x28), 0, "nothing driven");
}
