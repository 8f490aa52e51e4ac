use super::*;
use crate::config::BoardKind;

#[test]
fn pagemap_entries_decode() {
    assert_eq!(pagemap_pfn((1 << 63) | 0x1234), Some(0x1234));
    assert_eq!(pagemap_pfn(0x1234), None, "not present");
    assert_eq!(
        pagemap_pfn(1 << 63),
        None,
        "PFN hidden from unprivileged readers"
    );
    assert_eq!(
        pagemap_pfn((1 << 63) | (1 << 55) | 7),
        Some(7),
        "soft-dirty bit ignored"
    );
}

#[test]
fn page_frames_are_physical_addresses_not_frame_numbers() {
    // Frame numbers 0x1234 and 0x20 as the kernel writes them; the engine needs addresses.
    let page = page_size();
    let mut raw = vec![0u8; 16 * 8];
    raw[3 * 8..4 * 8].copy_from_slice(&((1u64 << 63) | 0x1234).to_le_bytes());
    raw[4 * 8..5 * 8].copy_from_slice(&((1u64 << 63) | 0x20).to_le_bytes());
    let f = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(f.path(), &raw).expect("write");
    let got = page_frames(f.path(), 3 * page + 12, page as usize + 1).expect("frames");
    assert_eq!(got, vec![0x1234 * page, 0x20 * page]);
    // And they make page-aligned bus addresses.
    let pages = bus_pages(&Board::emulated(BoardKind::Pi3), &got).expect("in reach");
    assert_eq!(pages.bus(0), 0xC000_0000 | (0x1234 * page) as u32);
}

#[test]
fn a_page_above_the_first_gib_is_refused_not_aliased() {
    // A Pi 4 with 2 GB: physical 0x7A3F_0000 ORed with 0xC000_0000 is bus 0xFA3F_0000, which
    // the engine decodes as physical 0x3A3F_0000: someone else's page.
    let pi4 = Board::emulated(BoardKind::Pi4);
    let e = bus_pages(&pi4, &[0x0010_0000, 0x7A3F_0000]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("0x7a3f0000") && msg.contains("first GiB"),
        "{msg}"
    );
    // The last page below 1 GiB is fine; the one that ends past it is not.
    assert!(bus_pages(&pi4, &[0x3FFF_F000]).is_ok());
    assert!(bus_pages(&pi4, &[0x4000_0000]).is_err());
}

#[test]
fn each_page_keeps_its_own_bus_address_on_every_board() {
    let frames = [0x0030_0000, 0x0010_0000, 0x0020_5000];
    for (kind, alias) in [
        (BoardKind::Pi1, 0x4000_0000),
        (BoardKind::Pi3, 0xC000_0000),
        (BoardKind::Pi4, 0xC000_0000),
    ] {
        let p = bus_pages(&Board::emulated(kind), &frames).expect("in reach");
        let page = page_size() as usize;
        assert_eq!(p.bus(0), alias | 0x0030_0000, "{kind:?}");
        assert_eq!(p.bus(page + 8), alias | 0x0010_0008, "{kind:?}");
        assert_eq!(p.bus(2 * page), alias | 0x0020_5000, "{kind:?}");
    }
}

#[test]
fn scattered_frames_are_one_uncached_window_for_the_cpu() {
    // A memory file stands for /dev/mem: the window writes each page's own frame.
    let f = tempfile::NamedTempFile::new().expect("temp");
    f.as_file().set_len(1 << 22).expect("size");
    let mem = PhysMem::open(f.path()).expect("open");
    let page = page_size();
    let frames = [3 * page, page, 7 * page];
    let m = PagemapMemory::with_frames(&mem, &Board::emulated(BoardKind::Pi3), &frames, None)
        .expect("mapped");
    let map = m.mapping();
    assert_eq!(map.len(), 3 * page as usize);
    map.write32(0, 0xA);
    map.write32(page + 4, 0xB);
    map.write32(2 * page + 8, 0xC);
    let whole = mem.map(0, 8 * page as usize).expect("whole");
    assert_eq!(whole.read32(3 * page), 0xA);
    assert_eq!(whole.read32(page + 4), 0xB);
    assert_eq!(whole.read32(7 * page + 8), 0xC);
    assert_eq!(m.method(), "pagemap");
    assert_eq!(m.bus_addr(), 0xC000_0000 | (3 * page) as u32);
}
