//! Tests of the decoding half: blocks become the chunks a source of edge events would deliver.

use super::*;
use crate::block::LevelWords;
use crate::edges::Edge;

fn block(t0_us: u64, levels: &[u32], lost_before: u64) -> Block {
    Block {
        t0_us,
        period_us: 1,
        words: LevelWords::One,
        levels: levels.to_vec(),
        lost_before,
    }
}

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

#[test]
fn blocks_become_chunks_with_initial_levels_edges_and_gaps() {
    let mut d = BlockDecoder::new(&[2, 5]);
    let mut chunk = EdgeChunk::default();
    assert!(d.decode(&block(100, &[1 << 5, 1 << 5, 1 << 2], 0), &mut chunk));
    assert_eq!(
        chunk,
        EdgeChunk {
            initial: Some(vec![
                PinLevel { pin: 2, level: 0 },
                PinLevel { pin: 5, level: 1 },
            ]),
            gap: None,
            edges: vec![edge(2, 1, 102), edge(5, 0, 102)],
            until_us: 102,
        }
    );
    assert!(d.decode(&block(110, &[0, 0], 7), &mut chunk));
    assert_eq!(
        chunk,
        EdgeChunk {
            initial: None,
            gap: Some(Gap {
                from_us: 102,
                to_us: 110,
                samples: 7,
                edges: 0,
            }),
            edges: vec![Edge {
                after_gap: true,
                ..edge(2, 0, 110)
            }],
            until_us: 111,
        }
    );
    // A block without samples hands on nothing and leaves the chunk as it was.
    assert!(!d.decode(&block(112, &[], 0), &mut chunk));
    assert_eq!(chunk.until_us, 111);
}

#[test]
fn an_added_pin_starts_now_if_its_word_was_sampled_else_with_the_next_chunk() {
    let mut d = BlockDecoder::new(&[2]);
    let mut chunk = EdgeChunk::default();
    assert!(d.decode(&block(100, &[1 << 3], 0), &mut chunk));
    // GPIO 3 was in the sampled word: its level is known now; GPIO 40 was not.
    let known = d.rewatch(&[2, 3, 40], &[3, 40], &[]);
    assert_eq!(known, vec![PinLevel { pin: 3, level: 1 }]);
    let two_words = Block {
        t0_us: 101,
        period_us: 1,
        words: LevelWords::Two,
        levels: vec![1 << 3, 1 << 8, 0, 1 << 8],
        lost_before: 0,
    };
    assert!(d.decode(&two_words, &mut chunk));
    assert_eq!(chunk.initial, Some(vec![PinLevel { pin: 40, level: 1 }]));
    // GPIO 40's first sample is its state, not an edge; GPIO 3 falls in the second sample.
    assert_eq!(chunk.edges, vec![edge(3, 0, 102)]);
}

#[test]
fn a_change_across_a_gap_is_marked_and_later_changes_are_not() {
    let mut d = BlockDecoder::new(&[2, 5, 7]);
    let mut chunk = EdgeChunk::default();
    assert!(d.decode(&block(100, &[1 << 7, 1 << 7], 0), &mut chunk));
    // Lost samples, then GPIO 2 and 7 differ at the first sample after them, GPIO 5 later.
    assert!(d.decode(&block(200, &[1 << 2, 1 << 2 | 1 << 5], 50), &mut chunk));
    let marked = |pin, level, t_us| Edge {
        after_gap: true,
        ..edge(pin, level, t_us)
    };
    assert_eq!(
        chunk.edges,
        vec![marked(2, 1, 200), marked(7, 0, 200), edge(5, 1, 201)]
    );
    // The same change without lost samples is an ordinary edge.
    assert!(d.decode(&block(202, &[1 << 5], 0), &mut chunk));
    assert_eq!(chunk.edges, vec![edge(2, 0, 202)]);
}

#[test]
fn a_change_across_a_restart_is_marked() {
    let mut d = BlockDecoder::new(&[2]);
    let mut chunk = EdgeChunk::default();
    assert!(d.decode(&block(100, &[0], 0), &mut chunk));
    d.mark_restart();
    assert!(d.decode(&block(500, &[1 << 2], 0), &mut chunk));
    assert!(chunk.gap.is_some());
    assert_eq!(
        chunk.edges,
        vec![Edge {
            after_gap: true,
            ..edge(2, 1, 500)
        }]
    );
}

#[test]
fn the_first_block_after_lost_samples_has_no_edges_to_mark() {
    let mut d = BlockDecoder::new(&[2]);
    let mut chunk = EdgeChunk::default();
    // Nothing was seen before: the first sample is the initial state, whatever was lost.
    assert!(d.decode(&block(100, &[1 << 2, 0], 9), &mut chunk));
    assert_eq!(chunk.edges, vec![edge(2, 0, 101)]);
}

#[test]
fn the_mark_costs_an_edge_no_space() {
    assert_eq!(std::mem::size_of::<Edge>(), 16);
}
