use super::*;
use crate::hw::barrier::Barrier;
use crate::hw::chain::{ChainLayout, ChainSpec};
use crate::hw::recorder::{self, Access, Region};
use crate::hw::regs::dma;
use crate::sampler::LevelWords;

fn layout(block_samples: u32, words: LevelWords) -> ChainLayout {
    ChainLayout::new(ChainSpec {
        block_samples,
        blocks: 4,
        words,
        permap: dma::PERMAP_PCM_TX,
        fifo_offset: 0x20_3004,
        periph_base: 0xFE00_0000,
        lite_channel: true,
    })
    .expect("layout")
}

/// Every access of a block copy is an aligned 32-bit load inside the chain's memory, every level
/// word of the block is loaded exactly once and nothing outside the block is touched: the copy
/// cannot have gone around the accessor (as the old `memcpy` did, which a recorder never sees)
/// and cannot issue the wide or unaligned loads that fault on a Device mapping.
#[test]
fn a_block_copy_is_one_aligned_word_load_per_word() {
    for (k, words) in [
        (125, LevelWords::One),
        (250, LevelWords::Two),
        (333, LevelWords::One),
        (333, LevelWords::Two),
        (1000, LevelWords::One),
    ] {
        let l = layout(k, words);
        let log = recorder::log();
        let mem = Region::new("dma memory", l.bytes() / 4, &log);
        let regs = Region::new("channel", dma::CHANNEL_REGS_LEN / 4, &log);
        for b in 0..l.blocks() {
            mem.poke(l.ticks_offset(b), 1000 + b);
            for i in 0..l.level_words_per_block() as u64 {
                mem.poke(l.levels_offset(b) + 4 * i, b << 24 | i as u32);
            }
        }
        regs.poke(dma::CONBLK_AD, 0xC000_0000);
        let b = 2;
        // A block that starts off a 16-byte boundary is the case memcpy faults on.
        let mut levels = Vec::new();
        let copied = copy_block(&mem, &regs, &l, b, &mut levels);
        assert_eq!(copied.tick_before, 1002);
        assert_eq!(copied.tick_after, 1002);
        assert_eq!(copied.conblk_after, 0xC000_0000);
        let expect: Vec<u32> = (0..l.level_words_per_block() as u32)
            .map(|i| b << 24 | i)
            .collect();
        assert_eq!(levels, expect, "k = {k}");

        let log = log.borrow();
        let level_reads: Vec<u64> = log
            .iter()
            .filter_map(|a| match *a {
                Access::Read {
                    region: "dma memory",
                    offset,
                } if offset != l.ticks_offset(b) => Some(offset),
                _ => None,
            })
            .collect();
        let first = l.levels_offset(b);
        let expected: Vec<u64> = (0..l.level_words_per_block() as u64)
            .map(|i| first + 4 * i)
            .collect();
        assert_eq!(
            level_reads, expected,
            "k = {k} {words:?}: one load per level word, in order, nothing else"
        );
        assert!(
            log.iter()
                .all(|a| matches!(a, Access::Read { .. } | Access::Barrier(_))),
            "a copy never stores: {log:?}"
        );
    }
}

/// The position read that said the block is complete comes before any load of the block, and
/// the loads that check the engine stayed out of it come after the copy: `dmb osh` both sides.
#[test]
fn the_copy_sits_between_two_dma_read_barriers() {
    let l = layout(125, LevelWords::One);
    let log = recorder::log();
    let mem = Region::new("dma memory", l.bytes() / 4, &log);
    let regs = Region::new("channel", dma::CHANNEL_REGS_LEN / 4, &log);
    let mut levels = Vec::new();
    copy_block(&mem, &regs, &l, 1, &mut levels);
    let log = log.borrow();
    let barrier = Access::Barrier(Barrier::DmaRead);
    assert_eq!(log[0], barrier, "before the first load: {:?}", &log[..3]);
    let last_level = log
        .iter()
        .rposition(|a| matches!(a, Access::Read { region: "dma memory", offset } if *offset >= l.levels_offset(1)))
        .expect("level loads");
    assert_eq!(log[last_level + 1], barrier, "after the last level load");
    assert!(
        log[last_level + 2..]
            .iter()
            .all(|a| matches!(a, Access::Read { .. })),
        "{:?}",
        &log[last_level..]
    );
}
