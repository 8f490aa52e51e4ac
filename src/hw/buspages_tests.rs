use super::*;

#[test]
fn contiguous_memory_is_one_range() {
    let p = BusPages::contiguous(0xC010_0000, 3 * 4096 - 5);
    assert_eq!(p.len(), 3);
    assert_eq!(p.bus(0), 0xC010_0000);
    assert_eq!(p.bus(0x2FFC), 0xC010_2FFC);
    assert_eq!(p.offset(0xC010_2FFC), Some(0x2FFC));
    assert_eq!(p.offset(0xC010_3000), None, "one past the end");
    assert_eq!(p.offset(0xC00F_FFFC), None, "before");
}

#[test]
fn scattered_pages_translate_both_ways() {
    // Three pages in reverse physical order with a hole: what pagemap memory looks like.
    let p = BusPages::new(vec![0xC030_0000, 0xC010_0000, 0xC020_5000]);
    assert_eq!(p.first(), 0xC030_0000);
    assert_eq!(p.bus(0x1004), 0xC010_0004);
    assert_eq!(p.bus(0x2FE0), 0xC020_5FE0);
    for off in [0usize, 4, 0xFFC, 0x1000, 0x1FE0, 0x2000, 0x2FFC] {
        assert_eq!(p.offset(p.bus(off)), Some(off), "offset {off:#x}");
    }
    assert_eq!(p.offset(0xC010_1000), None, "the page after a page of ours");
}

#[test]
#[should_panic(expected = "beyond")]
fn an_offset_past_the_memory_is_refused() {
    BusPages::contiguous(0xC010_0000, 4096).bus(4096);
}
