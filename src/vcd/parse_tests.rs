//! Parser tests: the VCD features we accept, the errors we report, and no panics on garbage.

use crate::vcd::*;
use proptest::prelude::*;

const NS: u128 = 1_000_000;

fn changes(t: &Trace) -> Vec<(u128, u8, u8)> {
    t.changes()
        .iter()
        .map(|c| (c.t_fs, c.pin, c.level))
        .collect()
}

fn syntax_line(text: &str) -> (usize, String) {
    match parse(text) {
        Err(VcdError::Syntax { line, reason }) => (line, reason),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn parses_a_typical_file() {
    let text = "\
$date today $end
$version some tool
  1.0 $end
$comment multi
line $end
$timescale
  1 ns
$end
$scope module top $end
$var wire 1 ! gpio17 $end
$scope module inner $end
$var wire 1 \" gpio18 [0] $end
$var reg 8 # bus $end
$var real 64 % temp $end
$upscope $end
$var wire 1 & clk $end
$upscope $end
$enddefinitions $end
#0
$dumpvars
1!
x\"
b00000000 #
r0.5 %
0&
$end
#1500
0!
b1 \"
b10101010 #
1&
#1500
Z!
1!
#2000
$dumpoff
x!
$end
#2500
";
    let t = parse(text).unwrap();
    assert_eq!(t.pins(), 1 << 17 | 1 << 18);
    assert_eq!(t.initial(), 1 << 17);
    // At 1500 ns gpio17 goes 1→0→0→1 (last wins: no change); gpio18 rises.
    assert_eq!(changes(&t), vec![(1500 * NS, 18, 1), (2000 * NS, 17, 0)]);
    assert_eq!(t.end_fs(), 2500 * NS);
}

#[test]
fn timescales_in_every_spelling() {
    for (ts, fs) in [
        ("1s", 1_000_000_000_000_000u128),
        ("10 ms", 10_000_000_000_000),
        ("100us", 100_000_000_000),
        ("1\nns", 1_000_000),
        ("10 ps", 10_000),
        ("100 fs", 100),
    ] {
        let text = format!(
            "$timescale {ts} $end $var wire 1 a gpio0 $end $enddefinitions $end #0 0a #3 1a"
        );
        let t = parse(&text).unwrap();
        assert_eq!(changes(&t), vec![(3 * fs, 0, 1)], "timescale {ts}");
    }
}

#[test]
fn gpio_names() {
    let decl = |name: &str| {
        let text = format!("$var wire 1 a {name} $end $enddefinitions $end #5 1a");
        parse(&text).unwrap().pins()
    };
    assert_eq!(decl("gpio0"), 1);
    assert_eq!(decl("gpio53"), 1 << 53);
    assert_eq!(decl("GPIO4[0]"), 1 << 4);
    assert_eq!(decl("gpio4 [0]"), 1 << 4);
    for ignored in [
        "gpio54", "gpio", "gpio04", "gpio4[1]", "xgpio4", "gpio4x", "led",
    ] {
        assert_eq!(decl(ignored), 0, "{ignored}");
    }
    // Wider wires named gpio<N> do not drive anything.
    let t = parse("$var wire 4 a gpio3 $end $enddefinitions $end #5 b1111 a").unwrap();
    assert_eq!(t.pins(), 0);
}

#[test]
fn printable_ids_and_aliases() {
    let text = "$var wire 1 {}[]# gpio1 $end $var wire 1 #$% gpio2 $end \
                $var wire 1 {}[]# gpio3 $end $enddefinitions $end #0 1{}[]# #7 1#$%";
    let t = parse(text).unwrap();
    assert_eq!(t.initial(), 1 << 1 | 1 << 3);
    assert_eq!(changes(&t), vec![(7 * NS, 2, 1)]);
}

#[test]
fn values_before_first_timestamp_are_time_zero() {
    let t = parse("$var wire 1 ! gpio5 $end $enddefinitions $end 1! #10 0!").unwrap();
    assert_eq!(t.initial(), 1 << 5);
    assert_eq!(changes(&t), vec![(10 * NS, 5, 0)]);
}

#[test]
fn empty_and_header_only_files() {
    assert_eq!(parse("").unwrap(), Trace::default());
    let t = parse("$timescale 1us $end $var wire 1 ! gpio5 $end $enddefinitions $end").unwrap();
    assert_eq!(t.pins(), 1 << 5);
    assert_eq!(t.end_fs(), 0);
}

#[test]
fn errors_carry_the_line() {
    let head = "$timescale 1us $end\n$var wire 1 ! gpio5 $end\n$enddefinitions $end\n";
    let cases: &[(&str, usize, &str)] = &[
        ("#0\n1?\n", 5, "unknown identifier `?`"),
        ("#10\n#5\n", 5, "back in time"),
        ("#1x\n", 4, "not a number"),
        ("#\n", 4, "not a number"),
        ("hello\n", 4, "unexpected `hello`"),
        ("$dumpvars\n1!\n", 4, "unterminated $dumpvars"),
        ("$comment\nnever ends\n", 4, "unterminated $comment"),
        ("$dumpvars 1! #5 $end\n", 4, "unexpected `#5`"),
        ("b012 !\n", 4, "bad vector value"),
        ("b01\n", 4, "has no identifier"),
        ("1\n", 4, "has no identifier"),
        ("$end\n", 4, "$end without"),
        ("$var wire 1 ? gpio6 $end\n", 4, "after $enddefinitions"),
        (
            "#99999999999999999999999999999999999999999\n",
            4,
            "too large",
        ),
    ];
    for (body, line, reason) in cases {
        let (l, r) = syntax_line(&format!("{head}{body}"));
        assert_eq!(
            (l, r.contains(reason)),
            (*line, true),
            "{body:?}: line {l}: {r}"
        );
    }
}

#[test]
fn header_errors() {
    let (l, r) = syntax_line("$comment x $end\n$timescale 3 ns $end\n");
    assert_eq!(l, 2, "{r}");
    assert!(r.contains("timescale"));
    let (l, r) = syntax_line("$timescale 1 ks $end");
    assert_eq!(l, 1, "{r}");
    let (l, r) = syntax_line("$timescale\n1ns\n");
    assert!(l == 1 && r.contains("unterminated"), "{l} {r}");
    let (l, r) = syntax_line("$upscope $end");
    assert!(l == 1 && r.contains("$upscope"), "{r}");
    let (l, _) = syntax_line("\n$var wire x ! a $end");
    assert_eq!(l, 2);
    let (l, _) = syntax_line("$var wire 1 ! $end");
    assert_eq!(l, 1);
    let (l, r) = syntax_line("\n\n1! $enddefinitions $end");
    assert!(l == 3 && r.contains("before $enddefinitions"), "{r}");
}

#[test]
fn duplicate_gpio_names_the_line() {
    let text = "$scope module a $end\n$var wire 1 ! gpio7 $end\n$upscope $end\n\
                $scope module b $end\n$var wire 1 \" gpio7[0] $end\n";
    let (l, r) = syntax_line(text);
    assert_eq!(l, 5);
    assert!(r.contains("GPIO 7") && r.contains("line 2"), "{r}");
}

#[test]
fn read_file_reports_io_and_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.vcd");
    assert!(matches!(read_file(&missing), Err(VcdError::Io(_))));
    let bad = dir.path().join("bad.vcd");
    std::fs::write(&bad, b"$enddefinitions $end\n\xff\xfe junk\n").unwrap();
    assert!(matches!(
        read_file(&bad),
        Err(VcdError::Syntax { line: 2, .. })
    ));
}

/// Tokens that steer the parser into its deeper paths.
fn vcd_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$end".to_string()),
        Just("$var wire 1 ! gpio3 $end".to_string()),
        Just("$var wire 2 \" gpio4 $end".to_string()),
        Just("$scope module m $end".to_string()),
        Just("$upscope".to_string()),
        Just("$enddefinitions $end".to_string()),
        Just("$dumpvars".to_string()),
        Just("$timescale 10 ps $end".to_string()),
        Just("$comment".to_string()),
        "#[0-9]{0,40}",
        "[01xzb]{1,3}[!\"#]?",
        "r[0-9.]{0,4}",
        "[ -~]{0,6}",
        "[\n \t]",
    ]
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn never_panics_on_vcd_like_tokens(toks in proptest::collection::vec(vcd_token(), 0..40)) {
        let _ = parse(&toks.join(" "));
    }
}

#[test]
fn z_floats_a_pin_that_reads_0_and_a_driven_value_ends_it() {
    let text = "$timescale 1 ns $end\n$var wire 1 ! gpio17 $end\n$var wire 1 \" gpio18 $end\n\
                $enddefinitions $end\n#0\nz!\n1\"\n#5\n1!\nbZ \"\n#9\nx!\n0\"\n";
    let t = parse(text).expect("parses");
    assert_eq!(t.initial(), 1 << 18, "a floating pin reads 0");
    assert_eq!(t.initial_floating(), 1 << 17);
    assert_eq!(
        changes(&t),
        vec![(5 * NS, 17, 1), (5 * NS, 18, 0), (9 * NS, 17, 0)]
    );
    let floats: Vec<_> = t
        .floats()
        .iter()
        .map(|c| (c.t_fs, c.pin, c.level))
        .collect();
    // 17 driven again at 5 ns; 18 floats from 5 ns to 9 ns; `x` drives (low).
    assert_eq!(
        floats,
        vec![(5 * NS, 17, 0), (5 * NS, 18, 1), (9 * NS, 18, 0)]
    );
    let mut c = t.floating_cursor().expect("some pin floats");
    assert_eq!(c.level_at(6 * NS), 1 << 18);
}

#[test]
fn a_file_without_z_has_no_floating_pins() {
    let text = "$var wire 1 ! gpio17 $end\n$enddefinitions $end\n#0\n0!\n#5\n1!\n";
    let t = parse(text).expect("parses");
    assert!(t.floating_cursor().is_none());
    assert_eq!(t.initial_floating(), 0);
}
