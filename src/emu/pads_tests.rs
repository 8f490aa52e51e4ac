//! Unit tests of `pads`: the pull registers executed as strictly as silicon.

use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::hw::clock::HostClock;
use crate::hw::pull::{set_pulls, PullScheme};
use crate::vcd::TraceBuilder;

const US: u64 = 1_000_000;

fn board(kind: BoardKind, floating: Option<Cursor>) -> (tempfile::TempDir, Pads, Mapping) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mem = crate::emu::board_file::create(&dir.path().join("board"), kind).expect("board");
    let pads = Pads::new(&mem, kind, floating).expect("pads");
    let base = crate::emu::board_file::periph_base(kind);
    let gpio = mem.map(base + gpio::BASE, 0x100).expect("gpio");
    (dir, pads, gpio)
}

fn set_events(ev: &[PadEvent]) -> Vec<(u8, Pull)> {
    ev.iter()
        .filter_map(|e| match e {
            PadEvent::Set { pin, pull } => Some((*pin, *pull)),
            PadEvent::PulseIgnored { .. } => None,
        })
        .collect()
}

#[test]
fn pads_start_at_their_reset_defaults() {
    for kind in [BoardKind::Pi1, BoardKind::Pi3, BoardKind::Pi4] {
        let (_d, pads, _g) = board(kind, None);
        assert_eq!(pads.pull(4), Pull::Up);
        assert_eq!(pads.pull(17), Pull::Down);
        assert_eq!(pads.pull(28), Pull::None);
    }
    // The BCM2711's registers read back those defaults: 0–8 up (01), 9–15 down (10).
    let (_d, _p, gpio) = board(BoardKind::Pi4, None);
    assert_eq!(gpio.read32(0xE4), 0xAAA9_5555);
}

#[test]
fn the_datasheet_sequence_sets_a_pull_on_the_clock_pulse() {
    let (_d, mut pads, gpio) = board(BoardKind::Pi3, None);
    gpio.write32(regs::GPPUD, 2);
    assert!(pads.poll(10 * US).is_empty());
    gpio.write32(regs::GPPUDCLK0, 1 << 17);
    assert!(pads.poll(11 * US).is_empty());
    assert_eq!(pads.pull(17), Pull::Down, "not before the hold time");
    gpio.write32(regs::GPPUD, 0);
    gpio.write32(regs::GPPUDCLK0, 0);
    let ev = pads.poll(12 * US);
    assert_eq!(set_events(&ev), vec![(17, Pull::Up)]);
    assert_eq!(pads.pull(17), Pull::Up);
    assert_eq!(pads.pull(18), Pull::Down, "only clocked pins change");
}

#[test]
fn gppud_alone_changes_nothing() {
    let (_d, mut pads, gpio) = board(BoardKind::Pi1, None);
    gpio.write32(regs::GPPUD, 2);
    pads.poll(US);
    pads.poll(2 * US);
    gpio.write32(regs::GPPUD, 0);
    assert!(pads.poll(3 * US).is_empty());
    assert_eq!(pads.pull(17), Pull::Down);
}

#[test]
fn a_clock_without_the_setup_time_is_ignored() {
    let (_d, mut pads, gpio) = board(BoardKind::Pi3, None);
    // Control and clock seen together: no 150 cycles between them.
    gpio.write32(regs::GPPUD, 2);
    gpio.write32(regs::GPPUDCLK0, 1 << 17);
    let ev = pads.poll(US);
    assert!(
        matches!(ev[..], [PadEvent::PulseIgnored { pin: 17, .. }]),
        "{ev:?}"
    );
    gpio.write32(regs::GPPUD, 0);
    gpio.write32(regs::GPPUDCLK0, 0);
    assert!(set_events(&pads.poll(5 * US)).is_empty());
    assert_eq!(pads.pull(17), Pull::Down);
}

#[test]
fn a_clock_removed_before_the_hold_time_is_ignored() {
    let (_d, mut pads, gpio) = board(BoardKind::Pi3, None);
    gpio.write32(regs::GPPUD, 1);
    pads.poll(US);
    gpio.write32(regs::GPPUDCLK0, 1 << 4);
    pads.poll(2 * US);
    gpio.write32(regs::GPPUDCLK0, 0);
    let ev = pads.poll(2 * US + 100_000);
    assert!(
        matches!(ev[..], [PadEvent::PulseIgnored { pin: 4, .. }]),
        "{ev:?}"
    );
    assert!(set_events(&pads.poll(10 * US)).is_empty());
    assert_eq!(pads.pull(4), Pull::Up);
}

#[test]
fn the_bcm2711_takes_its_register_as_written_and_ignores_gppud() {
    let (_d, mut pads, gpio) = board(BoardKind::Pi4, None);
    // The old scheme does nothing on a 2711.
    gpio.write32(regs::GPPUD, 2);
    pads.poll(US);
    gpio.write32(regs::GPPUDCLK0, 1 << 17);
    pads.poll(2 * US);
    pads.poll(3 * US);
    assert_eq!(pads.pull(17), Pull::Down);
    let (off, shift) = pup_pdn_slot(17);
    let v = gpio.read32(off);
    gpio.write32(off, v & !(3 << shift) | 1 << shift);
    assert_eq!(set_events(&pads.poll(4 * US)), vec![(17, Pull::Up)]);
    // The reserved code leaves the pad as it is.
    gpio.write32(off, v | 3 << shift);
    assert!(pads.poll(5 * US).is_empty());
    assert_eq!(pads.pull(17), Pull::Up);
}

/// A lock-step clock: each wait lets the pads look at their registers, then time passes.
struct Stepping {
    pads: Mutex<(Pads, u64)>,
}

impl HostClock for Stepping {
    fn utc_us(&self) -> u64 {
        0
    }
    fn wait(&self, d: Duration) {
        if let Ok(mut g) = self.pads.lock() {
            let (pads, now) = &mut *g;
            pads.poll(*now);
            *now += d.as_nanos() as u64 * 1000;
        }
    }
}

impl Stepping {
    /// The pads' next look, after the last write.
    fn settle(&self) -> Vec<(u8, Pull)> {
        let mut g = self.pads.lock().expect("pads");
        let (pads, now) = &mut *g;
        *now += US;
        let _ = pads.poll(*now);
        [4, 17, 40].iter().map(|&p| (p, pads.pull(p))).collect()
    }
}

#[test]
fn the_agents_own_steps_set_pulls_on_both_schemes() {
    let wanted = [(4, Pull::Down), (17, Pull::Up), (40, Pull::None)];
    for (kind, scheme) in [
        (BoardKind::Pi1, PullScheme::Clocked),
        (BoardKind::Pi3, PullScheme::Clocked),
        (BoardKind::Pi4, PullScheme::Direct),
    ] {
        let (_d, pads, gpio) = board(kind, None);
        let clock = Stepping {
            pads: Mutex::new((pads, 0)),
        };
        set_pulls(&gpio, &clock, scheme, &wanted);
        assert_eq!(clock.settle(), wanted.to_vec(), "{kind:?}");
    }
}

/// A clock that does not wait: the writes follow each other with no time between them.
struct Hasty {
    pads: Mutex<Pads>,
}

impl HostClock for Hasty {
    fn utc_us(&self) -> u64 {
        0
    }
    fn wait(&self, _: Duration) {
        if let Ok(mut p) = self.pads.lock() {
            p.poll(US);
        }
    }
}

#[test]
fn the_clocked_steps_without_settle_time_do_nothing() {
    let (_d, pads, gpio) = board(BoardKind::Pi3, None);
    let clock = Hasty {
        pads: Mutex::new(pads),
    };
    set_pulls(&gpio, &clock, PullScheme::Clocked, &[(17, Pull::Up)]);
    let mut pads = clock.pads.into_inner().expect("pads");
    pads.poll(US);
    pads.poll(100 * US);
    assert_eq!(pads.pull(17), Pull::Down);
}

#[test]
fn a_floating_pin_reads_its_pull_and_a_driven_one_its_signal() {
    let mut b = TraceBuilder::new();
    b.change_us(0, 17, 1).change_us(0, 18, 1);
    b.float(10 * crate::vcd::FS_PER_US, 17);
    b.float(10 * crate::vcd::FS_PER_US, 18);
    b.change_us(20, 17, 0);
    let trace = b.build();
    let (_d, mut pads, gpio) = board(BoardKind::Pi4, trace.floating_cursor());
    let level = |pads: &mut Pads, t_us: u64| {
        let t = u128::from(t_us) * crate::vcd::FS_PER_US;
        pads.read(trace.level_at(t), t) >> 17 & 0b11
    };
    assert_eq!(level(&mut pads, 5), 0b11, "driven high");
    // Reset defaults: both pulled down.
    assert_eq!(level(&mut pads, 12), 0b00);
    let (off, _) = pup_pdn_slot(17);
    let v = gpio.read32(off);
    gpio.write32(off, v & !(0b1111 << 2) | 0b1001 << 2); // 17 up, 18 down
    pads.poll(US);
    assert_eq!(level(&mut pads, 13), 0b01, "17 pulled up, 18 pulled down");
    assert_eq!(level(&mut pads, 25), 0b00, "17 driven low again");
}
