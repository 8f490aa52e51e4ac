use super::*;
use crate::hw::clock::SystemClock;
use crate::hw::recorder::{self, Access, Region};
use crate::hw::regs::dma;

#[test]
fn the_offset_is_estimated_before_the_channel_starts() {
    let log = recorder::log();
    let timer = Region::new("timer", 4, &log);
    let regs = Region::new("channel", dma::CHANNEL_REGS_LEN / 4, &log);
    timer.poke(st::CLO, 1234);
    let e = estimate_then_start(&timer, &regs, &SystemClock, 0xC000_0000);
    assert_eq!(e.clo, 1234);
    let log = log.borrow();
    let clo = log
        .iter()
        .position(|a| {
            *a == Access::Read {
                region: "timer",
                offset: st::CLO,
            }
        })
        .expect("a CLO read");
    let go = log
        .iter()
        .position(|a| {
            matches!(a, Access::Write { region: "channel", offset, value }
                if *offset == dma::CS && value & dma::CS_ACTIVE != 0)
        })
        .expect("the start");
    assert!(clo < go, "CLO read after the channel started: {log:?}");
}

/// CLO read 10 µs before its wrap, the ring's first ticks just before and after it: every
/// block maps to the right UTC time. (Estimated after the start instead, CLO would read 5,
/// past the wrap, and the block stamped 2^32 - 10 would land 71.6 minutes in the future.)
#[test]
fn ticks_across_a_wrap_right_after_the_estimate_keep_their_utc_time() {
    let utc0 = 1_764_000_000_000_000;
    let mut ticks = TickExtender::new();
    let mut utc = UtcMapper::new();
    Estimate {
        before: utc0,
        clo: u32::MAX - 9,
        after: utc0,
    }
    .apply(&mut ticks, &mut utc);
    assert_eq!(utc.utc(ticks.extend(u32::MAX - 4)), utc0 + 5);
    assert_eq!(utc.utc(ticks.extend(5)), utc0 + 15);
    assert_eq!(utc.utc(ticks.extend(5_000)), utc0 + 5_010);

    // The old order, for the record: the same ring, estimated 15 µs later, past the wrap.
    let mut ticks = TickExtender::new();
    let mut late = UtcMapper::new();
    late.estimate(utc0 + 15, 5, utc0 + 15);
    let off = late.utc(ticks.extend(u32::MAX - 4)) - (utc0 + 5);
    assert_eq!(off, 1 << 32, "2^32 µs = 71.6 min ahead");
}
