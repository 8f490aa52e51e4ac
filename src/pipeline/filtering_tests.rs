//! Tests of the filtering half: a source of edge chunks that never made a block gets the same
//! batches as the block path for the same signal.

use super::*;
use crate::block::{Block, LevelWords};
use crate::edges::batch::{Batch, Batcher};
use crate::edges::Gap;
use crate::pipeline::Pipeline;

fn input(pin: u8, glitch_us: u64, max_edges_per_s: u32) -> InputConfig {
    InputConfig {
        pin,
        name: String::new(),
        glitch_us,
        lockout_us: 0,
        noise_steady_us: 0,
        noise_active_us: 0,
        max_edges_per_s,
        device_class: None,
        pull: Default::default(),
        invert: false,
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

/// What the sampling thread does with one block's (or chunk's) output.
fn batch(
    batcher: &mut Batcher,
    events: BlockEvents,
    edges: &[Edge],
    limited: &[RateLimited],
    now: Option<u64>,
    out: &mut Vec<Batch>,
) {
    if let Some(levels) = events.initial {
        batcher.set_levels(&levels);
    }
    if let Some(gap) = events.gap {
        batcher.push_gap(gap);
    }
    for &e in edges {
        out.extend(batcher.push(e));
    }
    if let Some(now) = now {
        for &r in limited {
            batcher.push_rate_limited(r, now);
        }
        out.extend(batcher.poll(now));
    }
}

/// Pin 2 behind a 2 µs glitch filter (which delays its edges), pin 5 limited to 2 edges per
/// second.
fn inputs() -> Vec<InputConfig> {
    vec![input(2, 2, 0), input(5, 0, 2)]
}

#[test]
fn chunks_fed_directly_give_the_batches_of_the_block_path() {
    const P2: u32 = 1 << 2;
    const P5: u32 = 1 << 5;
    let block = |t0_us, levels: &[u32], lost_before| Block {
        t0_us,
        period_us: 1,
        words: LevelWords::One,
        levels: levels.to_vec(),
        lost_before,
    };
    let blocks = [
        block(100, &[0, P2, P2, P2, P2 | P5, P5, P5, 0], 0),
        block(108, &[P5, P5, P2 | P5, P2 | P5, P2 | P5, P2 | P5], 0),
        block(120, &[0, 0, 0, 0], 6),
    ];
    // The same signal as a source of edge events would deliver it.
    let chunks = [
        EdgeChunk {
            initial: Some(vec![
                PinLevel { pin: 2, level: 0 },
                PinLevel { pin: 5, level: 0 },
            ]),
            gap: None,
            edges: vec![
                edge(2, 1, 101),
                edge(5, 1, 104),
                edge(2, 0, 105),
                edge(5, 0, 107),
            ],
            until_us: 107,
        },
        EdgeChunk {
            initial: None,
            gap: None,
            edges: vec![edge(5, 1, 108), edge(2, 1, 110)],
            until_us: 113,
        },
        EdgeChunk {
            initial: None,
            gap: Some(Gap {
                from_us: 113,
                to_us: 120,
                samples: 6,
            }),
            // As the decoder marks them: both changes happened during the gap.
            edges: vec![
                Edge {
                    after_gap: true,
                    ..edge(2, 0, 120)
                },
                Edge {
                    after_gap: true,
                    ..edge(5, 0, 120)
                },
            ],
            until_us: 123,
        },
    ];

    let mut from_blocks = Vec::new();
    let mut pipeline = Pipeline::new(&inputs());
    let mut batcher = Batcher::new(7, 3, 5);
    for b in &blocks {
        let mut edges = Vec::new();
        let events = pipeline.process(b, &mut edges);
        let (limited, now) = (pipeline.rate_limited(), pipeline.last_sample_us());
        batch(&mut batcher, events, &edges, limited, now, &mut from_blocks);
    }
    from_blocks.extend(batcher.flush());

    let mut from_chunks = Vec::new();
    let mut filtering = Filtering::new(&inputs());
    let mut batcher = Batcher::new(7, 3, 5);
    for c in &chunks {
        let mut edges = Vec::new();
        let events = filtering.process(c, &mut edges);
        let (limited, now) = (filtering.rate_limited(), filtering.last_sample_us());
        batch(&mut batcher, events, &edges, limited, now, &mut from_chunks);
    }
    from_chunks.extend(batcher.flush());

    assert_eq!(from_chunks, from_blocks);
    // Not a vacuous match: the limit and the gap both left their mark.
    let all = |f: fn(&Batch) -> usize| from_blocks.iter().map(f).sum::<usize>();
    assert!(from_blocks.len() >= 2, "{from_blocks:?}");
    assert_eq!(all(|b| b.gaps.len()), 1, "{from_blocks:?}");
    assert!(all(|b| b.rate_limited.len()) >= 1, "{from_blocks:?}");
}
