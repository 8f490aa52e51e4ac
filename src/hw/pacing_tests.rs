//! Pacing maths for every offered period on both PLLDs, and the registers `program` leaves.

use super::*;
use crate::hw::mmio::PhysMem;
use crate::hw::regs::field;

const PLLDS: [u64; 2] = [500_000_000, 750_000_000];

#[test]
fn every_whole_microsecond_up_to_1000_is_exact_on_both_pllds() {
    for plld in PLLDS {
        for period in 1..=MAX_PERIOD_US {
            let p = plan(period, plld, Pacer::Pwm).unwrap_or_else(|e| panic!("{period}: {e}"));
            // Exact: bits · divi PLLD cycles is the period, to the cycle.
            assert_eq!(
                u64::from(p.bits_per_frame) * u64::from(p.divi),
                u64::from(period) * plld / 1_000_000,
                "{period} µs at {plld}"
            );
            assert!((cm::DIVI_MIN..=cm::DIVI_MAX).contains(&p.divi), "{p:?}");
            assert!((1..=1024).contains(&p.bits_per_frame), "{p:?}");
            assert!(p.clock_hz() <= 10_000_000.0, "{p:?}");
            assert_eq!(p.period_us, period);
            // Frames must hold the DREQ slack's worth of bits to be a real serialiser frame.
            assert!(p.bits_per_frame >= 8, "{p:?}");
        }
    }
}

#[test]
fn the_fastest_clock_is_chosen() {
    let p = plan(1, 500_000_000, Pacer::Pwm).expect("plan");
    assert_eq!((p.divi, p.bits_per_frame), (50, 10));
    let p = plan(5, 750_000_000, Pacer::Pcm).expect("plan");
    assert_eq!((p.divi, p.bits_per_frame), (75, 50));
    assert_eq!(p.clock_hz(), 10_000_000.0);
    // 103 µs = 51500 cycles: divisors 50–51 do not divide it, 100 does (515-bit frame).
    let p = plan(103, 500_000_000, Pacer::Pwm).expect("plan");
    assert_eq!((p.divi, p.bits_per_frame), (100, 515));
    let p = plan(1000, 750_000_000, Pacer::Pwm).expect("plan");
    assert_eq!((p.divi, p.bits_per_frame), (750, 1000));
}

#[test]
fn out_of_range_periods_name_the_key() {
    for bad in [0, 1001, 5000] {
        let err = plan(bad, 500_000_000, Pacer::Pwm).unwrap_err();
        assert!(
            matches!(&err, HwError::Settings { field, .. } if field == "sampler.period_us"),
            "{err}"
        );
        assert!(err.to_string().contains(&bad.to_string()), "{err}");
    }
    assert!(plan(5, 500_500_000, Pacer::Pwm).is_err());
}

#[test]
fn permap_and_fifo_match_the_datasheet() {
    let pwm = plan(5, 500_000_000, Pacer::Pwm).expect("plan");
    let pcm = plan(5, 500_000_000, Pacer::Pcm).expect("plan");
    assert_eq!((pwm.permap(), pwm.fifo_offset()), (5, 0x20_C018));
    assert_eq!((pcm.permap(), pcm.fifo_offset()), (2, 0x20_3004));
}

#[test]
fn pcm_channel_width_encoding() {
    assert_eq!(pcm_txc(32), pcm::TXC_CH1EN | pcm::TXC_CH1WEX | (8 << 16));
    assert_eq!(pcm_txc(1000), pcm_txc(32));
    assert_eq!(pcm_txc(10), pcm::TXC_CH1EN | (2 << 16));
    assert_eq!(pcm_txc(24), pcm::TXC_CH1EN | pcm::TXC_CH1WEX);
}

/// A board-sized memory file whose registers read back what was last written.
fn board_file(base: u64) -> (tempfile::NamedTempFile, Peripherals) {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    f.as_file()
        .set_len(base + pwm::BASE + 0x1000)
        .expect("set_len");
    let mem = PhysMem::open(f.path()).expect("open");
    let p = Peripherals::map(&mem, base).expect("map");
    (f, p)
}

#[test]
fn program_pwm_leaves_the_documented_registers() {
    let (_f, p) = board_file(0);
    // A generator left running and busy by a previous user: BUSY already clear in a file, but
    // ENAB set and another source selected, which must be kept while disabling.
    p.cm.write32(cm::PWMCTL, cm::PASSWD | cm::SRC_OSC | cm::CTL_ENAB);
    let plan = plan(5, 750_000_000, Pacer::Pwm).expect("plan");
    program(&p, &plan).expect("program");
    let ctl = p.cm.read32(cm::PWMCTL);
    assert_eq!(ctl, cm::PASSWD | cm::SRC_PLLD | cm::CTL_ENAB);
    assert_eq!(
        field(ctl, cm::CTL_MASH_SHIFT, 2),
        0,
        "integer division only"
    );
    let div = p.cm.read32(cm::PWMDIV);
    assert_eq!(div & cm::PASSWD_MASK, cm::PASSWD);
    assert_eq!(field(div, cm::DIV_DIVI_SHIFT, cm::DIV_DIVI_WIDTH), 75);
    assert_eq!(field(div, 0, cm::DIV_DIVF_WIDTH), 0);
    assert_eq!(p.pwm.read32(pwm::RNG1), 50);
    assert_eq!(p.pwm.read32(pwm::DMAC), 0x8000_0408);
    assert_eq!(p.pwm.read32(pwm::CTL), 0b10_0011);
    // The PCM side is untouched.
    assert_eq!(p.cm.read32(cm::PCMCTL), 0);
    assert_eq!(p.pcm.read32(pcm::CS_A), 0);

    stop(&p, Pacer::Pwm);
    assert_eq!(p.pwm.read32(pwm::DMAC), 0);
    assert_eq!(p.pwm.read32(pwm::CTL), 0);
    assert_eq!(p.cm.read32(cm::PWMCTL), cm::PASSWD | cm::SRC_PLLD);
}

#[test]
fn program_pcm_leaves_the_documented_registers() {
    let (_f, p) = board_file(0x1000);
    let plan = plan(2, 500_000_000, Pacer::Pcm).expect("plan");
    assert_eq!((plan.divi, plan.bits_per_frame), (50, 20));
    program(&p, &plan).expect("program");
    assert_eq!(
        p.cm.read32(cm::PCMCTL),
        cm::PASSWD | cm::SRC_PLLD | cm::CTL_ENAB
    );
    assert_eq!(p.cm.read32(cm::PCMDIV), cm::PASSWD | (50 << 12));
    let mode = p.pcm.read32(pcm::MODE_A);
    assert_eq!(field(mode, pcm::MODE_FLEN_SHIFT, 10), 19);
    assert_eq!(field(mode, pcm::MODE_FSLEN_SHIFT, 10), 1);
    // 20-bit channel 1: 8 + 12.
    assert_eq!(p.pcm.read32(pcm::TXC_A), pcm::TXC_CH1EN | (12 << 16));
    assert_eq!(p.pcm.read32(pcm::DREQ_A), (4 << 24) | (8 << 8));
    assert_eq!(
        p.pcm.read32(pcm::CS_A),
        pcm::CS_EN | pcm::CS_STBY | pcm::CS_DMAEN | pcm::CS_TXON
    );
    assert_eq!(p.cm.read32(cm::PWMCTL), 0);

    stop(&p, Pacer::Pcm);
    assert_eq!(p.pcm.read32(pcm::CS_A), 0);
    assert_eq!(p.cm.read32(cm::PCMCTL), cm::PASSWD | cm::SRC_PLLD);
}

#[test]
fn a_generator_that_stays_busy_times_out_naming_the_register() {
    let (_f, p) = board_file(0);
    // A file never clears BUSY by itself: the wait must give up and say which register.
    // (`program` itself cannot be driven there: its disable write replaces BUSY, so the poll
    // is checked directly.)
    p.cm.write32(cm::PCMCTL, cm::CTL_BUSY);
    let err = wait_not_busy(&p.cm, cm::PCMCTL).unwrap_err();
    assert!(err.to_string().contains("CM_PCMCTL.BUSY"), "{err}");
}
