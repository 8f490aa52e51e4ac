//! Unit tests of `bank`.

use super::*;

use crate::edges::filter::FilterSettings;

fn lockout(us: u64) -> PinSettings {
    PinSettings::unlimited(FilterSettings {
        lockout_us: us,
        ..FilterSettings::default()
    })
}

fn e(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

fn lv(pin: u8, level: u8) -> PinLevel {
    PinLevel { pin, level }
}

#[test]
fn routes_by_pin_and_drops_unknown() {
    let mut bank = FilterBank::new(
        &[(4, lockout(100)), (53, PinSettings::default())],
        &[lv(4, 0), lv(53, 1)],
    );
    assert_eq!(bank.pins(), &[4, 53]);
    let mut out = Vec::new();
    bank.push(e(4, 1, 10), &mut out);
    bank.push(e(53, 0, 11), &mut out);
    bank.push(e(5, 1, 12), &mut out); // not watched
    bank.push(e(60, 1, 12), &mut out); // not a GPIO
    bank.push(e(4, 0, 20), &mut out); // locked out
    assert_eq!(out, vec![e(4, 1, 10), e(53, 0, 11)]);
    bank.advance(110, &mut out);
    assert_eq!(out, vec![e(4, 1, 10), e(53, 0, 11), e(4, 0, 110)]);
    assert_eq!(bank.levels(), vec![lv(4, 0), lv(53, 0)]);
}

#[test]
fn invalid_and_missing_inputs() {
    let bank = FilterBank::new(&[(54, lockout(1)), (7, lockout(1))], &[]);
    assert_eq!(bank.pins(), &[7]);
    assert_eq!(bank.levels(), vec![lv(7, 0)]);
    let mut bank = bank;
    assert_eq!(
        bank.set_input(200, lockout(1), 0),
        Err(FilterError::PinOutOfRange(200))
    );
    assert!(!bank.remove_input(200));
}

#[test]
fn reconfiguring_one_pin_keeps_the_others() {
    let mut bank = FilterBank::new(
        &[(3, lockout(100)), (9, lockout(100))],
        &[lv(3, 0), lv(9, 0)],
    );
    let mut out = Vec::new();
    bank.push(e(3, 1, 0), &mut out);
    bank.push(e(9, 1, 0), &mut out);
    bank.push(e(3, 0, 50), &mut out);
    bank.push(e(9, 0, 50), &mut out);
    out.clear();
    // Pin 9 is rebuilt at its raw level 0: its pending end-of-lockout report is dropped.
    bank.set_input(9, PinSettings::default(), 0).unwrap();
    assert_eq!(bank.filter(9).map(|f| f.is_passthrough()), Some(true));
    bank.advance(100, &mut out);
    assert_eq!(out, vec![e(3, 0, 100)]);
    assert_eq!(bank.levels(), vec![lv(3, 0), lv(9, 0)]);

    assert!(bank.remove_input(3));
    assert!(!bank.remove_input(3));
    out.clear();
    bank.push(e(3, 1, 200), &mut out);
    bank.set_input(20, lockout(5), 1).unwrap();
    assert_eq!(bank.pins(), &[9, 20]);
    bank.push(e(20, 0, 300), &mut out);
    assert_eq!(out, vec![e(20, 0, 300)]);
}

fn limited(max_edges_per_s: u32) -> PinSettings {
    PinSettings {
        max_edges_per_s,
        ..PinSettings::default()
    }
}

#[test]
fn rate_limit_of_one_pin_leaves_the_others() {
    let mut bank = FilterBank::new(&[(3, limited(2)), (9, limited(0))], &[lv(3, 0), lv(9, 0)]);
    let mut out = Vec::new();
    for t in 1..=10u64 {
        let level = (t % 2) as u8;
        bank.push(e(3, level, t), &mut out);
        bank.push(e(9, level, t), &mut out);
    }
    let of = |out: &[Edge], pin: u8| out.iter().filter(|x| x.pin == pin).count();
    assert_eq!((of(&out, 3), of(&out, 9)), (2, 10));
    let mut counts = Vec::new();
    bank.take_rate_limited(&mut counts);
    assert_eq!(counts, vec![RateLimited { pin: 3, edges: 8 }]);
    counts.clear();
    bank.take_rate_limited(&mut counts);
    assert!(counts.is_empty(), "counts are taken once");

    // Pin 3 is held back at 1 (reported 0 at 2): a new limit reports it, pin 9 is untouched.
    bank.push(e(3, 1, 11), &mut out);
    bank.push(e(9, 1, 11), &mut out);
    out.clear();
    assert!(bank.set_rate_limit(3, 100, &mut out));
    assert!(!bank.set_rate_limit(4, 100, &mut out));
    assert_eq!(out, vec![e(3, 1, 11)]);
    assert_eq!(bank.levels(), vec![lv(3, 1), lv(9, 1)]);

    // A rebuilt pin keeps the count not taken yet.
    bank.set_rate_limit(3, 1, &mut out);
    bank.push(e(3, 0, 12), &mut out);
    bank.push(e(3, 1, 13), &mut out);
    bank.push(e(3, 0, 14), &mut out);
    bank.set_input(3, limited(1), 0).unwrap();
    bank.take_rate_limited(&mut counts);
    assert_eq!(counts, vec![RateLimited { pin: 3, edges: 2 }]);
}
