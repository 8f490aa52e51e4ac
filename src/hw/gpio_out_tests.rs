//! Unit tests of `gpio_out`.

use super::*;
use crate::hw::recorder::{self, Access, Region};

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
