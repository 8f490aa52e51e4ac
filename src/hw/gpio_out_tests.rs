//! Unit tests of `gpio_out`.

use super::*;
use crate::hw::gpio_restore::CLAIM_TESTS;
use crate::hw::recorder::{self, Access, Region};

/// A memory file reaching the GPIO block at peripheral base 0, as `/dev/mem` would map it.
fn gpio_file() -> (tempfile::NamedTempFile, PhysMem) {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    f.as_file().set_len(gpio::BASE + 4096).expect("size");
    let mem = PhysMem::open(f.path()).expect("open");
    (f, mem)
}

/// The figures of the datasheet and pigpio.c (register index × 4), typed in by hand.
#[test]
fn offsets_match_the_datasheet_figures() {
    assert_eq!(gpio::BASE + gpio::GPFSEL0, 0x20_0000);
    assert_eq!([gpio::GPSET0, gpio::GPSET1], [0x1C, 0x20]);
    assert_eq!([gpio::GPCLR0, gpio::GPCLR1], [0x28, 0x2C]);
    // GPIO 18: GPFSEL1, bits 24–26.
    assert_eq!((fsel_offset(18), fsel_shift(18)), (0x04, 24));
    assert_eq!((fsel_offset(9), fsel_shift(9)), (0x00, 27));
    assert_eq!((fsel_offset(57), fsel_shift(57)), (0x14, 21));
    assert_eq!(drive_offset(18, true), 0x1C);
    assert_eq!(drive_offset(18, false), 0x28);
    assert_eq!(drive_offset(40, true), 0x20);
    assert_eq!(drive_offset(40, false), 0x2C);
    assert_eq!((bit(18), bit(40)), (1 << 18, 1 << 8));
}

#[test]
fn function_codes_are_the_datasheets() {
    for code in 0..8 {
        assert_eq!(Function::from_bits(code).bits(), code);
    }
    assert_eq!(Function::Output.bits(), 1);
    assert_eq!(Function::Alt(0).bits(), 4);
    assert_eq!(Function::Alt(4).bits(), 3);
    assert_eq!(Function::Alt(5).bits(), 2);
    assert_eq!(Function::Alt(5).to_string(), "ALT5");
}

#[test]
fn a_function_change_leaves_the_other_nine_pins_alone() {
    let all_alt3 = 0x3FFF_FFFF;
    let reg = with_function(all_alt3, 18, Function::Output);
    assert_eq!(reg, (all_alt3 & !(0b111 << 24)) | 1 << 24);
    assert_eq!(with_function(reg, 18, Function::Alt(3)), all_alt3);
}

#[test]
fn making_an_output_clears_the_latch_before_selecting_the_function() {
    let log = recorder::log();
    let gpio = Region::new("gpio", 16, &log);
    gpio.poke(0x04, 0x0700_0000); // GPIO 18 ALT3 and nothing else, to see the field change
    make_output(&gpio, 18);
    let writes: Vec<_> = log
        .borrow()
        .iter()
        .filter(|a| matches!(a, Access::Write { .. }))
        .copied()
        .collect();
    assert_eq!(
        writes,
        [
            Access::Write {
                region: "gpio",
                offset: 0x28,
                value: 1 << 18
            },
            Access::Write {
                region: "gpio",
                offset: 0x04,
                value: 1 << 24
            },
        ]
    );
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

#[test]
fn the_input_end_must_be_an_input() {
    let log = recorder::log();
    let gpio = Region::new("gpio", 16, &log);
    assert!(check_input(&gpio, 17).is_ok());
    gpio.poke(0x04, with_function(0, 17, Function::Output));
    let err = check_input(&gpio, 17).unwrap_err().to_string();
    assert!(
        err.contains("GPIO 17 (IN) is output") && err.contains("short"),
        "{err}"
    );
    gpio.poke(0x04, with_function(0, 17, Function::Alt(4)));
    let err = check_input(&gpio, 17).unwrap_err().to_string();
    assert!(err.contains("ALT4") && err.contains("peripheral"), "{err}");
    let err = check_input(&gpio, 60).unwrap_err().to_string();
    assert!(err.contains("GPIO 60 does not exist"), "{err}");
}
