use super::*;

fn chain() -> FiniteChain {
    FiniteChain {
        blocks: 3,
        reads: 5,
        words: LevelWords::Two,
        periph_base: 0x3F00_0000,
    }
}

#[test]
fn the_chain_ends_and_names_every_page_by_its_own_bus_address() {
    let c = chain();
    let pages = BusPages::new(vec![0xC050_0000]);
    let image = c.image(&pages);
    assert_eq!(image.len() * 4, c.bytes());
    let last = (c.cbs() - 1) * 8;
    assert_eq!(image[last + 5], 0, "the last CB ends the chain");
    assert_eq!(image[5], 0xC050_0020, "CB 0 → CB 1");
    assert_eq!(image[1], 0x7E00_3004, "CLO");
    assert_eq!(image[8 + 1], 0x7E20_0034, "GPLEV0");
    assert_eq!(image[8 + 3], 8, "two level words");
    assert_eq!(image[8] & dma::TI_SRC_INC, dma::TI_SRC_INC);
    assert_eq!(image[2], 0xC050_0000 + c.tick_offset(0) as u32);
}

#[test]
fn the_layout_check_finds_unwritten_and_stray_words() {
    let c = chain();
    let mut mem = c.image(&BusPages::new(vec![0xC050_0000]));
    let read = |m: &Vec<u32>| {
        let m = m.clone();
        move |off: usize| m[off / 4]
    };
    assert!(c
        .check_layout(read(&mem))
        .unwrap_err()
        .contains("timer word"));
    // What the engine writes: ticks and levels.
    for b in 0..c.blocks {
        mem[c.tick_offset(b) / 4] = 100 + b as u32;
        for w in 0..c.reads * 2 {
            mem[c.levels_offset(b) / 4 + w] = 0;
        }
    }
    assert_eq!(c.check_layout(read(&mem)), Ok(()));
    assert!(ticks_advance(&c.ticks(read(&mem))));
    mem[c.tick_offset(1) / 4 + 1] = 7;
    assert!(c.check_layout(read(&mem)).unwrap_err().contains("guard"));
}

#[test]
fn ticks_must_advance_and_never_go_back() {
    assert!(ticks_advance(&[5, 9, 9, 12]));
    assert!(ticks_advance(&[u32::MAX - 1, 3]), "across the wrap");
    assert!(!ticks_advance(&[5, 5, 5]), "a timer that never moved");
    assert!(!ticks_advance(&[9, 5]));
}
