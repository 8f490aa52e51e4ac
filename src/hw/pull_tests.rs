//! Unit tests of `pull`.

use std::time::Duration;

use super::*;
use crate::hw::recorder::{self, Access, Region};

/// The figures of the datasheet and pigpio.c, typed in again by hand.
#[test]
fn offsets_and_codes_match_the_datasheet_and_pigpio() {
    // pigpio: GPPUD = word 37, GPPUDCLK0/1 = 38/39, GPPUPPDN0–3 = 57–60.
    assert_eq!(regs::GPPUD, 37 * 4);
    assert_eq!(regs::GPPUDCLK0, 38 * 4);
    assert_eq!(regs::GPPUDCLK1, 39 * 4);
    assert_eq!(regs::PUP_PDN_CNTRL_REG0, 57 * 4);
    // pigpio.h: PI_PUD_OFF 0, PI_PUD_DOWN 1, PI_PUD_UP 2 go straight into GPPUD.
    assert_eq!(gppud_code(Pull::None), Some(0));
    assert_eq!(gppud_code(Pull::Down), Some(1));
    assert_eq!(gppud_code(Pull::Up), Some(2));
    // BCM2711: OFF → 0, UP → 1, DOWN → 2 (the other way round from GPPUD).
    assert_eq!(pup_pdn_code(Pull::None), Some(0));
    assert_eq!(pup_pdn_code(Pull::Up), Some(1));
    assert_eq!(pup_pdn_code(Pull::Down), Some(2));
    assert_eq!(gppud_code(Pull::Keep), None);
    assert_eq!(pup_pdn_code(Pull::Keep), None);
}

#[test]
fn codes_decode_back_and_reserved_codes_mean_nothing() {
    for p in [Pull::Up, Pull::Down, Pull::None] {
        assert_eq!(gppud_code(p).and_then(gppud_pull), Some(p));
        assert_eq!(pup_pdn_code(p).and_then(pup_pdn_pull), Some(p));
    }
    assert_eq!(gppud_pull(3), None);
    assert_eq!(pup_pdn_pull(3), None);
}

#[test]
fn slots_of_pins() {
    assert_eq!(clk_slot(0), (0x98, 1));
    assert_eq!(clk_slot(31), (0x98, 1 << 31));
    assert_eq!(clk_slot(32), (0x9C, 1));
    assert_eq!(clk_slot(53), (0x9C, 1 << 21));
    assert_eq!(pup_pdn_slot(0), (0xE4, 0));
    assert_eq!(pup_pdn_slot(15), (0xE4, 30));
    assert_eq!(pup_pdn_slot(16), (0xE8, 0));
    assert_eq!(pup_pdn_slot(22), (0xE8, 12));
    assert_eq!(pup_pdn_slot(53), (0xF0, 10));
}

#[test]
fn reset_defaults_of_the_header_pins() {
    assert!((0..=8).all(|p| reset_default(p) == Pull::Up));
    assert!((9..=27).all(|p| reset_default(p) == Pull::Down));
    assert_eq!(reset_default(28), Pull::None);
}

#[test]
fn serde_names_are_lowercase_and_keep_is_the_default() {
    #[derive(serde::Deserialize)]
    struct T {
        p: Pull,
    }
    for (s, p) in [
        ("up", Pull::Up),
        ("down", Pull::Down),
        ("none", Pull::None),
        ("keep", Pull::Keep),
    ] {
        let t: T = toml::from_str(&format!("p = \"{s}\"")).expect("parses");
        assert_eq!(t.p, p);
    }
    assert!(toml::from_str::<T>("p = \"Up\"").is_err());
    assert_eq!(Pull::default(), Pull::Keep);
}

#[test]
fn clocked_plan_is_the_datasheet_sequence_per_code() {
    let steps = plan(PullScheme::Clocked, &[(17, Pull::Up), (22, Pull::Up)]);
    let mask = 1 << 17 | 1 << 22;
    assert_eq!(
        steps,
        vec![
            PullStep::Write {
                offset: 0x94,
                value: 2
            },
            PullStep::Settle,
            PullStep::Write {
                offset: 0x98,
                value: mask
            },
            PullStep::Settle,
            PullStep::Write {
                offset: 0x94,
                value: 0
            },
            PullStep::Write {
                offset: 0x98,
                value: 0
            },
        ]
    );
}

#[test]
fn clocked_plan_groups_codes_and_banks() {
    let steps = plan(
        PullScheme::Clocked,
        &[(4, Pull::Down), (40, Pull::Down), (5, Pull::None)],
    );
    let writes: Vec<_> = steps
        .iter()
        .filter_map(|s| match s {
            PullStep::Write { offset, value } => Some((*offset, *value)),
            _ => None,
        })
        .collect();
    assert_eq!(
        writes,
        vec![
            (0x94, 0),
            (0x98, 1 << 5),
            (0x94, 0),
            (0x98, 0),
            (0x94, 1),
            (0x98, 1 << 4),
            (0x9C, 1 << 8),
            (0x94, 0),
            (0x98, 0),
            (0x9C, 0),
        ]
    );
    assert_eq!(steps.iter().filter(|s| **s == PullStep::Settle).count(), 4);
}

#[test]
fn keep_writes_nothing_and_the_last_listing_of_a_pin_wins() {
    assert!(plan(PullScheme::Clocked, &[(3, Pull::Keep)]).is_empty());
    assert!(plan(PullScheme::Direct, &[(3, Pull::Keep)]).is_empty());
    assert!(plan(PullScheme::Direct, &[(3, Pull::Up), (3, Pull::Keep)]).is_empty());
    assert_eq!(
        plan(PullScheme::Direct, &[(3, Pull::Up), (3, Pull::Down)]),
        vec![PullStep::Update {
            offset: 0xE4,
            mask: 3 << 6,
            value: 2 << 6
        }]
    );
}

#[test]
fn direct_plan_is_one_update_per_register() {
    let steps = plan(
        PullScheme::Direct,
        &[(22, Pull::Up), (1, Pull::None), (17, Pull::Down)],
    );
    assert_eq!(
        steps,
        vec![
            PullStep::Update {
                offset: 0xE4,
                mask: 3 << 2,
                value: 0
            },
            PullStep::Update {
                offset: 0xE8,
                mask: 3 << 12 | 3 << 2,
                value: 1 << 12 | 2 << 2
            },
        ]
    );
}

/// A clock that counts its waits instead of waiting.
struct Clock(std::sync::Mutex<u32>);

impl HostClock for Clock {
    fn utc_us(&self) -> u64 {
        0
    }
    fn wait(&self, d: Duration) {
        assert_eq!(d, SETTLE);
        if let Ok(mut n) = self.0.lock() {
            *n += 1;
        }
    }
}

#[test]
fn run_keeps_the_other_pins_bits_on_the_2711() {
    let log = recorder::log();
    let gpio = Region::new("gpio", 64, &log);
    gpio.poke(0xE8, 0xFFFF_FFFF);
    let clock = Clock(std::sync::Mutex::new(0));
    set_pulls(&gpio, &clock, PullScheme::Direct, &[(22, Pull::Up)]);
    assert_eq!(gpio.peek(0xE8), !(3 << 12) | 1 << 12);
    assert_eq!(
        *log.borrow(),
        vec![
            Access::Read {
                region: "gpio",
                offset: 0xE8
            },
            Access::Write {
                region: "gpio",
                offset: 0xE8,
                value: !(3 << 12) | 1 << 12
            },
        ]
    );
}

#[test]
fn run_waits_between_control_and_clock_on_the_2835() {
    let log = recorder::log();
    let gpio = Region::new("gpio", 64, &log);
    let clock = Clock(std::sync::Mutex::new(0));
    set_pulls(&gpio, &clock, PullScheme::Clocked, &[(17, Pull::Up)]);
    assert_eq!(clock.0.lock().map(|n| *n).unwrap_or(0), 2);
    let writes: Vec<_> = log
        .borrow()
        .iter()
        .filter_map(|a| match a {
            Access::Write { offset, value, .. } => Some((*offset, *value)),
            _ => None,
        })
        .collect();
    assert_eq!(
        writes,
        vec![(0x94, 2), (0x98, 1 << 17), (0x94, 0), (0x98, 0)]
    );
    // Both registers end at rest.
    assert_eq!((gpio.peek(0x94), gpio.peek(0x98)), (0, 0));
}

#[test]
fn scheme_of_each_soc() {
    assert_eq!(PullScheme::of(Soc::Bcm2835), Some(PullScheme::Clocked));
    assert_eq!(PullScheme::of(Soc::Bcm2837), Some(PullScheme::Clocked));
    assert_eq!(PullScheme::of(Soc::Bcm2711), Some(PullScheme::Direct));
    assert_eq!(PullScheme::of(Soc::Bcm2712), None);
}
