//! Chain layouts checked against docs/hardware.md's literal figures, for both pacers, both widths,
//! several block sizes and ring lengths, on both boards' peripheral bases.

use super::*;

const PI3_BASE: u64 = 0x3F00_0000;
const PI4_BASE: u64 = 0xFE00_0000;
/// A DRAM bus address as the mailbox hands out (uncached alias).
const MEM_BUS: u32 = 0xDE40_0000;
/// PWM: PERMAP 5, FIF1 at 0x20C018.
const PWM: (u32, u64) = (5, 0x20_C018);
/// PCM: PERMAP 2, FIFO at 0x203004.
const PCM: (u32, u64) = (2, 0x20_3004);

fn spec(k: u32, blocks: u32, words: LevelWords, pacer: (u32, u64), base: u64) -> ChainSpec {
    ChainSpec {
        block_samples: k,
        blocks,
        words,
        permap: pacer.0,
        fifo_offset: pacer.1,
        periph_base: base,
        lite_channel: true,
    }
}

/// The layout's memory as one contiguous range at `MEM_BUS`, as the mailbox hands it out.
fn pages(l: &ChainLayout) -> BusPages {
    BusPages::contiguous(MEM_BUS, l.bytes())
}

fn cb(image: &[u32], index: usize) -> &[u32] {
    &image[index * 8..index * 8 + 8]
}

/// Every combination the tests walk.
fn specs() -> Vec<ChainSpec> {
    let mut v = Vec::new();
    for base in [PI3_BASE, PI4_BASE] {
        for pacer in [PWM, PCM] {
            for words in [LevelWords::One, LevelWords::Two] {
                for (k, blocks) in [(1, 2), (3, 2), (10, 5), (25, 7), (1000, 3)] {
                    v.push(spec(k, blocks, words, pacer, base));
                }
            }
        }
    }
    v
}

#[test]
fn control_blocks_carry_the_datasheet_values() {
    for s in specs() {
        let l = ChainLayout::new(s).expect("layout");
        let image = l.image(&pages(&l));
        assert_eq!(image.len() * 4, l.bytes());
        assert_eq!(l.bytes() % 4096, 0);
        let level_bytes = 4 * s.words.count() as u32;
        for b in 0..s.blocks {
            let first = (b * l.cbs_per_block()) as usize;
            let tick = cb(&image, first);
            // DEST_INC | WAIT_RESP | NO_WIDE_BURSTS.
            assert_eq!(tick[0], 0x10 | 0x8 | 0x0400_0000);
            assert_eq!(tick[1], 0x7E00_3004, "CLO");
            assert_eq!(tick[2], MEM_BUS + l.ticks_offset(b) as u32);
            assert_eq!((tick[3], tick[4], tick[6], tick[7]), (4, 0, 0, 0));
            for i in 0..s.block_samples {
                let level = cb(&image, first + 1 + 2 * i as usize);
                let src_inc = if s.words == LevelWords::Two { 0x100 } else { 0 };
                assert_eq!(level[0], 0x10 | 0x8 | 0x0400_0000 | src_inc);
                assert_eq!(level[1], 0x7E20_0034, "GPLEV0");
                assert_eq!(
                    level[2],
                    MEM_BUS + l.levels_offset(b) as u32 + i * level_bytes
                );
                assert_eq!(level[3], level_bytes);
                let pace = cb(&image, first + 2 + 2 * i as usize);
                // DEST_DREQ | PERMAP | WAIT_RESP | NO_WIDE_BURSTS, no DEST_INC.
                assert_eq!(pace[0], 0x40 | (s.permap << 16) | 0x8 | 0x0400_0000);
                let fifo = if s.permap == 5 {
                    0x7E20_C018
                } else {
                    0x7E20_3004
                };
                assert_eq!(pace[2], fifo);
                assert_eq!(pace[3], 4);
                // The pace source word lies past the levels, inside the image, and is 0.
                let src = (pace[1] - MEM_BUS) as usize;
                assert!(
                    src >= l.levels_offset(s.blocks - 1) as usize + l.level_words_per_block() * 4
                );
                assert_eq!(image[src / 4], 0);
            }
        }
    }
}

#[test]
fn the_ring_is_closed_and_every_cb_is_aligned_and_linked_in_order() {
    for s in specs() {
        let l = ChainLayout::new(s).expect("layout");
        let image = l.image(&pages(&l));
        let total = (s.blocks * l.cbs_per_block()) as usize;
        assert_eq!(l.first_cb_bus(&pages(&l)), MEM_BUS);
        assert_eq!(MEM_BUS % 32, 0);
        for i in 0..total {
            let next = cb(&image, i)[5];
            assert_eq!(next % 32, 0);
            let want = if i + 1 == total {
                MEM_BUS
            } else {
                MEM_BUS + 32 * (i as u32 + 1)
            };
            assert_eq!(next, want, "CB {i} of {total}");
        }
    }
}

#[test]
fn data_regions_do_not_overlap_and_fit() {
    for s in specs() {
        let l = ChainLayout::new(s).expect("layout");
        let cbs_end = u64::from(s.blocks * l.cbs_per_block()) * 32;
        assert!(l.ticks_offset(0) >= cbs_end);
        assert!(l.levels_offset(0) >= l.ticks_offset(s.blocks - 1) + 4);
        assert_eq!(l.ticks_offset(0) % 32, 0);
        assert_eq!(l.levels_offset(0) % 32, 0);
        let levels_end = l.levels_offset(s.blocks - 1) + 4 * l.level_words_per_block() as u64;
        assert!(levels_end < l.bytes() as u64);
        assert_eq!(
            l.levels_offset(1) - l.levels_offset(0),
            4 * u64::from(s.block_samples) * s.words.count() as u64
        );
    }
}

#[test]
fn position_round_trips_every_cb() {
    for s in specs() {
        let l = ChainLayout::new(s).expect("layout");
        for b in 0..s.blocks {
            for c in 0..l.cbs_per_block() {
                let ad = MEM_BUS + 32 * (b * l.cbs_per_block() + c);
                assert_eq!(
                    l.position(ad, &pages(&l)),
                    Some(Position {
                        block: b,
                        cb_in_block: c
                    })
                );
            }
        }
        let end = MEM_BUS + 32 * s.blocks * l.cbs_per_block();
        assert_eq!(l.position(end, &pages(&l)), None, "first byte past the CBs");
        assert_eq!(l.position(MEM_BUS + 4, &pages(&l)), None, "unaligned");
        assert_eq!(l.position(MEM_BUS - 32, &pages(&l)), None, "before");
        assert_eq!(l.position(0, &pages(&l)), None, "idle channel");
    }
}

#[test]
fn ring_length_from_config() {
    assert_eq!(blocks_for(5, 1000, 100), 20);
    assert_eq!(blocks_for(5, 1000, 1), 2);
    assert_eq!(blocks_for(1, 1000, 2501), 2501);
    assert_eq!(blocks_for(3, 7, 1), 48);
    assert_eq!(blocks_for(0, 0, 0), 2);
}

#[test]
fn bad_specs_name_the_setting() {
    let field_of = |s: ChainSpec| match ChainLayout::new(s) {
        Err(HwError::Settings { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field_of(spec(0, 2, LevelWords::One, PWM, PI4_BASE)),
        "sampler.block_samples"
    );
    assert_eq!(
        field_of(spec(10, 1, LevelWords::One, PWM, PI4_BASE)),
        "sampler.buffer_ms"
    );
    // 1 µs, 10 s of buffer: 10 M samples of 64+ bytes each is far over budget.
    assert_eq!(
        field_of(spec(1000, 10_000, LevelWords::Two, PWM, PI4_BASE)),
        "sampler.buffer_ms"
    );
    assert_eq!(
        field_of(spec(u32::MAX, u32::MAX, LevelWords::Two, PWM, PI4_BASE)),
        "sampler.buffer_ms"
    );
}

#[test]
fn write_image_overwrites_stale_memory() {
    let l = ChainLayout::new(spec(4, 3, LevelWords::One, PCM, PI3_BASE)).expect("layout");
    let mut mem = vec![0xFFFF_FFFF; l.bytes() / 4];
    l.write_image(&pages(&l), &mut mem);
    assert_eq!(mem, l.image(&pages(&l)));
    assert_eq!(mem[l.ticks_offset(2) as usize / 4], 0);
}

#[test]
fn scattered_pages_get_each_page_its_own_bus_address() {
    // 1000 samples × 2 words over 3 blocks: several pages, handed out in a shuffled order,
    // as pagemap memory is. Every address a CB names must be that byte's own page's.
    let l = ChainLayout::new(spec(1000, 3, LevelWords::Two, PCM, PI4_BASE)).expect("layout");
    let n = l.bytes() / 4096;
    let bus: Vec<u32> = (0..n)
        .map(|i| 0xC000_0000 + 0x0100_0000 + ((i * 7919) % (4 * n)) as u32 * 4096)
        .collect();
    let pages = BusPages::new(bus);
    let image = l.image(&pages);
    let total = (l.blocks() * l.cbs_per_block()) as usize;
    for i in 0..total {
        let c = cb(&image, i);
        let next = 32 * ((i + 1) % total);
        assert_eq!(c[5], pages.bus(next), "NEXTCONBK of CB {i}");
        let here = l.position(pages.bus(32 * i), &pages).expect("one of ours");
        assert_eq!(
            here.block * l.cbs_per_block() + here.cb_in_block,
            i as u32,
            "CB {i} found back"
        );
        // Destinations in our memory map back to the offset the layout gives.
        if let Some(off) = pages.offset(c[2]) {
            assert!(off + c[3] as usize <= l.bytes());
            // The transfer does not cross into the next page.
            assert_eq!(
                off / 4096,
                (off + c[3] as usize - 1) / 4096,
                "CB {i} straddles"
            );
        }
    }
    for b in 0..l.blocks() {
        let tick_cb = cb(&image, (b * l.cbs_per_block()) as usize);
        assert_eq!(pages.offset(tick_cb[2]), Some(l.ticks_offset(b) as usize));
    }
}
