use super::*;
use crate::hw::mmio::PhysMem;
use crate::hw::recorder::{self, Access, Region};
use std::cell::Cell;

fn channel_file() -> (tempfile::NamedTempFile, Mapping) {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    // The file must cover the channel's page, or touching it raises SIGBUS.
    f.as_file()
        .set_len(dma::channel_offset(5) + 4096)
        .expect("set_len");
    let m = PhysMem::open(f.path())
        .expect("open")
        .map(dma::channel_offset(5), dma::CHANNEL_REGS_LEN)
        .expect("map");
    (f, m)
}

#[test]
fn start_leaves_the_documented_registers() {
    let (_f, m) = channel_file();
    m.write32(dma::DEBUG, 0);
    start(&m, 0xDE40_0000);
    assert_eq!(m.read32(dma::CONBLK_AD), 0xDE40_0000);
    assert_eq!(
        m.read32(dma::CS),
        0x1000_0000 | 0x00F0_0000 | 0x0008_0000 | 1
    );
    assert_eq!(m.read32(dma::DEBUG), 0b111);
    let s = status(&m);
    assert!(s.active && !s.error);
    assert_eq!(s.conblk_ad, 0xDE40_0000);
}

#[test]
fn stop_resets_and_forgets_the_chain() {
    let (_f, m) = channel_file();
    start(&m, 0xDE40_0000);
    stop(&m);
    assert_eq!(m.read32(dma::CS), dma::CS_RESET);
    assert_eq!(m.read32(dma::CONBLK_AD), 0);
    assert!(!status(&m).active);
}

/// Registers whose outstanding writes never drain, counting reads: the spin must give up.
struct Stuck {
    reads: Cell<u32>,
    last: Cell<(u64, u32)>,
}

impl ChannelRegs for Stuck {
    fn read32(&self, _off: u64) -> u32 {
        self.reads.set(self.reads.get() + 1);
        dma::CS_WAITING_FOR_OUTSTANDING_WRITES
    }
    fn write32(&self, off: u64, v: u32) {
        self.last.set((off, v));
    }
}

#[test]
fn stop_is_bounded_when_the_engine_never_goes_idle() {
    let regs = Stuck {
        reads: Cell::new(0),
        last: Cell::new((0, 0)),
    };
    stop(&regs);
    assert_eq!(regs.reads.get(), STOP_SPIN_READS);
    assert_eq!(regs.last.get(), (dma::CONBLK_AD, 0));
}

#[test]
fn status_reports_errors() {
    let (_f, m) = channel_file();
    m.write32(dma::CS, dma::CS_ERROR);
    m.write32(dma::DEBUG, dma::DEBUG_READ_ERROR | dma::DEBUG_LITE);
    let s = status(&m);
    assert!(s.error && !s.active);
    assert_eq!(s.debug_errors, dma::DEBUG_READ_ERROR);
}

fn field_of(r: Result<(), HwError>) -> String {
    match r {
        Err(HwError::Settings { field, reason }) => format!("{field}: {reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn channel_checks() {
    assert!(field_of(check_channel(16, None, true)).starts_with("sampler.dma_channel: 16"));
    // Pi ≤ 3's mask: 14 (the default) is Linux's, 15 and 6 are the firmware's.
    assert!(check_channel(14, Some(0x7F35), true).is_ok());
    let msg = field_of(check_channel(6, Some(0x7F35), true));
    assert!(msg.contains("firmware") && msg.contains("0x7f35"), "{msg}");
    assert!(
        msg.contains("0, 2, 4, 5, 8, 9, 10, 11, 12, 13, 14"),
        "{msg}"
    );
    assert!(check_channel(15, Some(0x7F35), true).is_err());
    // Pi 4's mask: 7 (the default) is usable, 11–14 are not the legacy engine's.
    assert!(check_channel(7, Some(0x01F5), true).is_ok());
    assert!(check_channel(12, Some(0x01F5), true).is_err());
    // Lite channels only when allowed.
    let msg = field_of(check_channel(7, None, false));
    assert!(msg.contains("lite"), "{msg}");
    assert!(check_channel(5, None, false).is_ok());
    // Channel 15 only when a mask hands it out explicitly.
    let msg = field_of(check_channel(15, None, false));
    assert!(msg.contains("15") && msg.contains("mask"), "{msg}");
    assert!(check_channel(15, Some(0xFFFF), false).is_ok());
}

#[test]
fn start_issues_dsb_st_right_before_the_write_that_starts_the_channel() {
    let log = recorder::log();
    let regs = Region::new("channel", dma::CHANNEL_REGS_LEN / 4, &log);
    start(&regs, 0xDE40_0000);
    let log = log.borrow();
    let go = log
        .iter()
        .position(|a| {
            matches!(a, Access::Write { offset, value, .. }
                if *offset == dma::CS && value & dma::CS_ACTIVE != 0)
        })
        .expect("a write that starts the channel");
    assert_eq!(go, log.len() - 1, "nothing after the start: {log:?}");
    assert_eq!(
        log[go - 1],
        Access::Barrier(Barrier::BeforeStart),
        "the control blocks must be in memory before ACTIVE: {log:?}"
    );
}

/// A running ring, answered register by register as the datasheet describes (ABORT loads the
/// next CB and goes on): stop must pause it, let its writes drain and reset it, promptly.
#[test]
fn stop_pauses_drains_and_resets_a_running_ring() {
    let ring = crate::emu::dma::RegisterModel::running_ring(0xC010_0000, 8);
    stop(&ring);
    assert_eq!(ring.violations(), Vec::<String>::new());
    assert!(
        ring.cs_reads() <= 4,
        "{} CS reads: the stop spun instead of stopping the engine",
        ring.cs_reads()
    );
    let s = status(&ring);
    assert!(!s.active && s.conblk_ad == 0, "{s:?}");
}
