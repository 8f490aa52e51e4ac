//! Unit tests of `wires`.

use super::*;
use crate::hw::gpio_out::with_function;
use crate::hw::recorder::{self, Region};

/// A GPIO block with GPIO 18 an output (GPFSEL1) and everything else an input.
fn gpio_with_18_out() -> Region {
    let gpio = Region::new("gpio", 16, &recorder::log());
    gpio.poke(0x04, with_function(0, 18, Function::Output));
    gpio
}

#[test]
fn an_output_reads_its_latch_and_set_and_clear_read_back_zero() {
    let gpio = gpio_with_18_out();
    let mut w = Wires::new(&[], 0);
    gpio.poke(gpio::GPSET0, 1 << 18);
    w.poll(&gpio);
    assert_eq!(gpio.peek(gpio::GPSET0), 0, "write-only: reads 0 once taken");
    // The signal drives 18 low and 17 high: the output wins on 18, 17 keeps the signal.
    assert_eq!(w.levels(1 << 17), 1 << 17 | 1 << 18);
    gpio.poke(gpio::GPCLR0, 1 << 18);
    w.poll(&gpio);
    assert_eq!(gpio.peek(gpio::GPCLR0), 0);
    assert_eq!(w.levels(1 << 18), 0, "driven low whatever the signal says");
}

#[test]
fn the_latch_is_kept_while_the_pin_is_an_input_and_drives_once_it_is_an_output() {
    let gpio = Region::new("gpio", 16, &recorder::log());
    let mut w = Wires::new(&[[40, 41]], 0);
    gpio.poke(gpio::GPSET1, 1 << 8);
    w.poll(&gpio);
    assert_eq!(
        w.levels(0),
        0,
        "GPIO 40 is an input: nothing driven, the wire floats"
    );
    gpio.poke(0x10, with_function(0, 40, Function::Output));
    w.poll(&gpio);
    assert_eq!(w.levels(0), 1 << 40 | 1 << 41);
}

#[test]
fn a_wired_input_follows_its_output() {
    let gpio = gpio_with_18_out();
    let mut w = Wires::new(&[[18, 17]], 0);
    w.poll(&gpio);
    assert_eq!(w.levels(1 << 17), 0, "the output holds the wire low");
    gpio.poke(gpio::GPSET0, 1 << 18);
    w.poll(&gpio);
    assert_eq!(w.levels(0), 1 << 17 | 1 << 18);
    // The output goes back to input: the wire floats and the signal is read again.
    gpio.poke(0x04, 0);
    w.poll(&gpio);
    assert_eq!(w.levels(1 << 17), 1 << 17);
    assert_eq!(w.levels(0), 0);
}

#[test]
fn the_fault_loses_every_nth_pulse_on_the_wire_but_not_on_the_output() {
    let gpio = gpio_with_18_out();
    let mut w = Wires::new(&[[18, 17]], 3);
    let mut seen = Vec::new();
    for _ in 0..6 {
        gpio.poke(gpio::GPSET0, 1 << 18);
        w.poll(&gpio);
        let high = w.levels(0);
        assert_eq!(high & 1 << 18, 1 << 18, "the output itself always pulses");
        seen.push(high & 1 << 17 != 0);
        gpio.poke(gpio::GPCLR0, 1 << 18);
        w.poll(&gpio);
        assert_eq!(w.levels(0), 0);
    }
    assert_eq!(seen, [true, true, false, true, true, false]);
    assert_eq!(w.pulses(), [6]);
}

#[test]
fn impossible_wires_are_left_out() {
    let w = Wires::new(&[[18, 18], [60, 1], [1, 2]], 0);
    assert_eq!(w.pulses(), [0]);
}
