//! Unit tests of `pacer`.

use super::*;
use crate::hw::mmio::PhysMem;

fn regs() -> (tempfile::NamedTempFile, Mapping) {
    let f = tempfile::NamedTempFile::new().expect("temp");
    f.as_file().set_len(4096).expect("size");
    let m = PhysMem::open(f.path())
        .expect("open")
        .map(0, 0x100)
        .expect("map");
    (f, m)
}

#[test]
fn clock_writes_need_the_password_and_read_back_without_it() {
    let (_f, m) = regs();
    let mut g = ClockGen::default();
    m.write32(cm::PWMDIV, 50 << 12);
    m.write32(cm::PWMCTL, cm::SRC_PLLD | cm::CTL_ENAB);
    assert_eq!(
        g.poll(&m, cm::PWMCTL, cm::PWMDIV),
        ClockWrite::Ignored(cm::PWMDIV)
    );
    assert_eq!(g.hz(BoardKind::Pi3), None, "ignored: still off");
    assert_eq!(m.read32(cm::PWMCTL), 0, "the ignored write is undone");
    m.write32(cm::PWMDIV, cm::PASSWD | 50 << 12);
    m.write32(cm::PWMCTL, cm::PASSWD | cm::SRC_PLLD | cm::CTL_ENAB);
    assert_eq!(g.poll(&m, cm::PWMCTL, cm::PWMDIV), ClockWrite::Accepted);
    assert_eq!(g.hz(BoardKind::Pi3), Some(10_000_000));
    assert_eq!(g.hz(BoardKind::Pi4), Some(15_000_000));
    assert_eq!(
        m.read32(cm::PWMCTL),
        cm::SRC_PLLD | cm::CTL_ENAB | cm::CTL_BUSY
    );
    m.write32(cm::PWMCTL, cm::PASSWD | cm::SRC_PLLD);
    g.poll(&m, cm::PWMCTL, cm::PWMDIV);
    assert_eq!(
        m.read32(cm::PWMCTL) & cm::CTL_BUSY,
        0,
        "BUSY clears when disabled"
    );
}

#[test]
fn a_fifo_paces_one_word_per_frame_after_filling_to_its_threshold() {
    let mut f = Fifo {
        frame_ps: 5_000_000,
        threshold: 4,
        depth: 16,
        dma: true,
        ..Fifo::default()
    };
    let mut t = 0;
    let mut accepted = Vec::new();
    for _ in 0..10 {
        t = f.accept_at(t).expect("paced");
        f.push(t);
        accepted.push(t);
    }
    // Four words at once fill the FIFO to its threshold; then one per 5 µs frame.
    assert_eq!(&accepted[..4], &[0, 0, 0, 0]);
    for w in accepted[4..].windows(2) {
        assert_eq!(w[1] - w[0], 5_000_000);
    }
    f.dma = false;
    assert_eq!(
        f.accept_at(t),
        None,
        "no DMA requests: the write waits forever"
    );
}
