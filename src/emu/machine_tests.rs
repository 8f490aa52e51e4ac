use super::*;

/// A machine on a fresh board file, with a two-CB chain at physical 0x10_0000: CB 0 copies
/// the word 0xDEAD at physical 0x10_0100 to `dst0`, CB 1 to `dst1`, then the chain ends.
/// Runs it on channel 5.
fn run_chain(board: BoardKind, dst0: u32, dst1: u32) -> (Machine, Vec<(u64, EmuEvent)>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mem = board_file::create(&dir.path().join("board"), board).expect("board");
    let events = Arc::new(Mutex::new(Vec::new()));
    let m = Machine::new(
        &mem,
        board,
        None,
        false,
        FaultsConfig::default(),
        100,
        events.clone(),
    )
    .expect("machine");
    let mut m = m;
    let alias = Board::emulated(board).dram_bus_alias;
    let src = alias | 0x10_0100;
    m.dram.write32(0x10_0100, 0xDEAD);
    let ti = dma::TI_DEST_INC | dma::TI_WAIT_RESP;
    let cb0 = [ti, src, dst0, 4, 0, alias | 0x10_0020, 0, 0];
    let cb1 = [ti, src, dst1, 4, 0, 0, 0, 0];
    m.dram.copy_in(0x10_0000, &cb0);
    m.dram.copy_in(0x10_0020, &cb1);
    let ch = dma::channel_offset(5);
    m.periph.write32(ch + dma::CONBLK_AD, alias | 0x10_0000);
    m.periph.write32(ch + dma::CS, dma::CS_ACTIVE);
    m.poll_registers();
    m.run_until(10 * PS_PER_US);
    let ev = events.lock().expect("events").clone();
    (m, ev)
}

#[test]
fn bcm2711_legacy_dma_reaches_dram_only_through_its_one_gib_window() {
    // Pi 4: the uncached 0xC… window works; the 0x4… alias of the same page is outside
    // bcm2711.dtsi's dma-ranges: an AXI error, DEBUG's error bit, the channel stops.
    let (m, ev) = run_chain(BoardKind::Pi4, 0xC020_0000, 0x4020_0004);
    assert_eq!(m.dram.read32(0x20_0000), 0xDEAD, "the first write landed");
    assert_eq!(m.dram.read32(0x20_0004), 0, "the second did not");
    let ch = dma::channel_offset(5);
    assert_ne!(m.periph.read32(ch + dma::DEBUG) & dma::DEBUG_READ_ERROR, 0);
    let cs = m.periph.read32(ch + dma::CS);
    assert!(
        cs & dma::CS_ERROR != 0 && cs & dma::CS_ACTIVE == 0,
        "{cs:#x}"
    );
    assert!(
        ev.iter()
            .any(|(_, e)| matches!(e, EmuEvent::BusError { ch: 5, .. })),
        "{ev:?}"
    );
}

#[test]
fn older_socs_decode_every_dram_alias() {
    for board in [BoardKind::Pi1, BoardKind::Pi3] {
        let (m, ev) = run_chain(board, 0xC020_0000, 0x4020_0004);
        assert_eq!(m.dram.read32(0x20_0004), 0xDEAD, "{board:?}: {ev:?}");
        let cs = m.periph.read32(dma::channel_offset(5) + dma::CS);
        assert!(
            cs & dma::CS_END != 0 && cs & dma::CS_ERROR == 0,
            "{board:?} {cs:#x}"
        );
    }
}

#[test]
fn gplev1_has_a_bit_for_every_gpio_above_31() {
    assert_eq!(gplev1_mask(BoardKind::Pi3), 0x003F_FFFF, "GPIO 32-53");
    assert_eq!(gplev1_mask(BoardKind::Pi4), 0x03FF_FFFF, "GPIO 32-57");
}
