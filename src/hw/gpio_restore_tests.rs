//! Unit tests of `gpio_restore`.

use super::*;
use crate::hw::gpio_out::{function, map, with_function, OutputPin};
use crate::hw::mmio::PhysMem;
use crate::hw::regs::gpio;

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
