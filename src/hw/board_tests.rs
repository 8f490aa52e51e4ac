//! Board detection against fixture trees of every family (tests/fixtures/boards, written by
//! `make_fixtures.py` with real revision codes and device-tree bytes).

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/boards")
        .join(name)
}

fn board(name: &str) -> Board {
    detect(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Checks the SoC-derived figures every board of a family shares.
fn assert_family(b: &Board, soc: Soc, base: u64, alias: u32, plld: u64, flags: u32, ch: u8) {
    assert_eq!(b.soc, soc, "{}", b.model);
    assert_eq!(b.periph_base, base, "{}", b.model);
    assert_eq!(b.dram_bus_alias, alias, "{}", b.model);
    assert_eq!(b.plld_hz, plld, "{}", b.model);
    assert_eq!(b.mailbox_flags, flags, "{}", b.model);
    assert_eq!(b.default_dma_channel, ch, "{}", b.model);
}

fn assert_2835(b: &Board) {
    assert_family(
        b,
        Soc::Bcm2835,
        0x2000_0000,
        0x4000_0000,
        500_000_000,
        0xC,
        14,
    );
}

fn assert_2837(b: &Board) {
    assert_family(
        b,
        Soc::Bcm2837,
        0x3F00_0000,
        0xC000_0000,
        500_000_000,
        0x4,
        14,
    );
}

fn assert_2711(b: &Board) {
    assert_family(
        b,
        Soc::Bcm2711,
        0xFE00_0000,
        0xC000_0000,
        750_000_000,
        0x4,
        7,
    );
}

#[test]
fn pi1b_old_style_code_from_cpuinfo() {
    let b = board("pi1b");
    assert_eq!((b.revision, b.model.as_str()), (0x000e, "Raspberry Pi 1B"));
    assert_2835(&b);
    assert_eq!(b.dma_channel_mask, Some(0x7F35));
}

#[test]
fn zero_w() {
    let b = board("zerow");
    assert_eq!(
        (b.revision, b.model.as_str()),
        (0x9000c1, "Raspberry Pi Zero W")
    );
    assert_2835(&b);
}

#[test]
fn pi2b_is_a_bcm2836_at_the_pi3_base() {
    let b = board("pi2b");
    assert_eq!(b.model, "Raspberry Pi 2B");
    assert_family(
        &b,
        Soc::Bcm2836,
        0x3F00_0000,
        0xC000_0000,
        500_000_000,
        0x4,
        14,
    );
}

#[test]
fn pi3b() {
    let b = board("pi3b");
    assert_eq!(
        (b.revision, b.model.as_str()),
        (0xa02082, "Raspberry Pi 3B")
    );
    assert_2837(&b);
    assert_eq!(b.dma_channel_mask, Some(0x7F35));
}

#[test]
fn a_mainline_arm64_kernel_without_revision_is_told_by_its_compatible() {
    // Debian's arm64 kernel under QEMU's raspi3b: no linux,revision, no cpuinfo Revision.
    let b = board("pi3b-mainline");
    assert_eq!(
        (b.revision, b.model.as_str()),
        (0, "Raspberry Pi 3 Model B")
    );
    assert_2837(&b);
    assert_eq!(b.dma_channel_mask, Some(0x7F35));
}

#[test]
fn a_compatible_naming_no_broadcom_soc_is_not_a_pi() {
    let dir = tree(&[(DT_COMPATIBLE, b"qemu,virt\0linux,dummy-virt\0")]);
    let msg = detect(dir.path()).unwrap_err().to_string();
    assert!(
        msg.starts_with("not a Raspberry Pi") && msg.contains("compatible"),
        "{msg}"
    );
}

#[test]
fn pi3b_plus_without_root_cells_file() {
    let b = board("pi3bplus");
    assert_eq!(b.model, "Raspberry Pi 3B+");
    assert_2837(&b);
}

#[test]
fn zero_2w() {
    let b = board("zero2w");
    assert_eq!(
        (b.revision, b.model.as_str()),
        (0x902120, "Raspberry Pi Zero 2 W")
    );
    assert_2837(&b);
}

#[test]
fn pi4b_two_cell_ranges_and_legacy_dma_node() {
    let b = board("pi4b");
    assert_eq!(
        (b.revision, b.model.as_str()),
        (0xc03114, "Raspberry Pi 4B")
    );
    assert_2711(&b);
    // The legacy controller's own mask wins over the DMA4 node's.
    assert_eq!(b.dma_channel_mask, Some(0x01F5));
}

#[test]
fn pi400_cells_by_soc_and_no_dma_node() {
    let b = board("pi400");
    assert_eq!(b.model, "Raspberry Pi 400");
    assert_2711(&b);
    assert_eq!(b.dma_channel_mask, None);
}

#[test]
fn cm4_from_cpuinfo_and_renamed_dma_node() {
    let b = board("cm4");
    assert_eq!(
        (b.revision, b.model.as_str()),
        (0xb03141, "Raspberry Pi CM4")
    );
    assert_2711(&b);
    assert_eq!(b.dma_channel_mask, Some(0x07F5));
}

#[test]
fn pi5_points_to_the_cdev_backend() {
    let err = detect(&fixture("pi5")).unwrap_err();
    assert!(matches!(err, BoardError::Pi5 { .. }), "{err}");
    assert!(err.to_string().contains("cdev"), "{err}");
    assert!(err.to_string().contains("Raspberry Pi 5"), "{err}");
}

#[test]
fn not_a_pi_names_the_files_and_the_other_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = detect(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("not a Raspberry Pi"), "{msg}");
    assert!(
        msg.contains("linux,revision") && msg.contains("cpuinfo"),
        "{msg}"
    );
    assert!(
        msg.contains("\"replay\"") && msg.contains("\"emulated\""),
        "{msg}"
    );
}

/// Writes `files` (relative path, bytes) under a fresh temp root.
fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (p, bytes) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    dir
}

#[test]
fn x86_cpuinfo_without_revision_is_not_a_pi() {
    let dir = tree(&[(CPUINFO, b"processor\t: 0\nvendor_id\t: GenuineIntel\n")]);
    assert!(matches!(detect(dir.path()), Err(BoardError::NotAPi { .. })));
}

#[test]
fn garbage_and_unknown_revisions_are_named() {
    let dir = tree(&[(CPUINFO, b"Revision\t: zz12\n")]);
    let msg = detect(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("zz12") && msg.contains("cpuinfo"), "{msg}");
    let dir = tree(&[(DT_REVISION, &0x00a0_2ff2_u32.to_be_bytes())]);
    let msg = detect(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("a02ff2"), "{msg}");
}

#[test]
fn old_style_warranty_bit_is_ignored() {
    assert_eq!(
        decode_revision(0x0100_0010),
        Some((Soc::Bcm2835, "Raspberry Pi 1B+".into()))
    );
    assert_eq!(decode_revision(0x0000_0001), None);
}

#[test]
fn ranges_disagreeing_with_the_soc_are_refused() {
    let mut ranges = Vec::new();
    for c in [0x7E00_0000_u32, 0x2000_0000, 0x0100_0000] {
        ranges.extend_from_slice(&c.to_be_bytes());
    }
    let dir = tree(&[(CPUINFO, b"Revision\t: a02082\n"), (DT_SOC_RANGES, &ranges)]);
    let msg = detect(dir.path()).unwrap_err().to_string();
    assert!(
        msg.contains("ranges") && msg.contains("0x20000000"),
        "{msg}"
    );
    let dir = tree(&[
        (CPUINFO, b"Revision\t: a02082\n"),
        (DT_SOC_RANGES, &[1, 2, 3]),
    ]);
    assert!(matches!(detect(dir.path()), Err(BoardError::Ranges { .. })));
}

#[test]
fn pi4_high_peripheral_mode_is_accepted() {
    let mut ranges = Vec::new();
    for c in [0x7E00_0000_u32, 0x4, 0x7E00_0000, 0x0180_0000] {
        ranges.extend_from_slice(&c.to_be_bytes());
    }
    let dir = tree(&[(CPUINFO, b"Revision\t: c03114\n"), (DT_SOC_RANGES, &ranges)]);
    assert_eq!(
        detect(dir.path()).expect("detect").periph_base,
        0x4_7E00_0000
    );
}

#[test]
fn emulated_boards_match_detected_ones() {
    let pi3 = Board::emulated(BoardKind::Pi3);
    assert_eq!(pi3, board("pi3b"));
    let pi4 = Board::emulated(BoardKind::Pi4);
    assert_eq!(pi4, board("pi4b"));
}

#[test]
fn dram_bus_round_trip_on_both_aliases() {
    let pi1 = board("pi1b");
    assert_eq!(pi1.dram_bus(0x0123_4000), 0x4123_4000);
    assert_eq!(pi1.dram_phys(0x4123_4000), 0x0123_4000);
    let pi4 = Board::emulated(BoardKind::Pi4);
    assert_eq!(pi4.dram_bus(0x0123_4000), 0xC123_4000);
    assert_eq!(pi4.dram_phys(0xC123_4000), 0x0123_4000);
}

#[test]
fn board_channel_checks_use_the_mask_and_refuse_dma4_on_the_2711() {
    let pi400 = board("pi400");
    assert!(pi400
        .check_dma_channel(pi400.default_dma_channel, true)
        .is_ok());
    let msg = pi400.check_dma_channel(12, true).unwrap_err().to_string();
    assert!(
        msg.contains("sampler.dma_channel") && msg.contains("DMA4"),
        "{msg}"
    );
    let pi3 = board("pi3b");
    assert!(pi3.check_dma_channel(12, true).is_ok());
    assert!(pi3.check_dma_channel(pi3.default_dma_channel, true).is_ok());
    assert!(pi3.check_dma_channel(6, true).is_err());
    let pi4 = board("pi4b");
    assert!(pi4.check_dma_channel(pi4.default_dma_channel, true).is_ok());
}
