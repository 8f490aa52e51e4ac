use super::*;
use crate::vcd::parse;

const HEADER: &str = "$timescale 1 us $end\n$scope module m $end\n";

fn trace(vars: &str) -> Trace {
    parse(&format!(
        "{HEADER}{vars}$upscope $end\n$enddefinitions $end\n#0\n#10\n"
    ))
    .unwrap()
}

#[test]
fn a_signal_without_gpio_wires_names_the_wires_found_and_the_pins() {
    let t = trace("$var wire 1 ! clk $end\n$var wire 1 \" data $end\n");
    let msg = uncovered(&t, [17, 18]).unwrap();
    assert!(msg.contains("no gpio<N> wire"), "{msg}");
    assert!(
        msg.contains("clk, data") && msg.contains("gpio17, gpio18"),
        "{msg}"
    );
}

#[test]
fn watched_pins_the_signal_does_not_drive_are_named() {
    let t = trace("$var wire 1 ! gpio4 $end\n$var wire 1 \" gpio5 $end\n");
    let msg = uncovered(&t, [4, 27]).unwrap();
    assert!(
        msg.starts_with("the signal drives no wire for gpio27,"),
        "{msg}"
    );
    assert!(msg.contains("wires found: gpio4, gpio5"), "{msg}");
    assert_eq!(uncovered(&t, [4, 5]), None);
}
