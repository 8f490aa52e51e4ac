//! The decoder against a naive reference: random blocks of 1 or 2 words with random edge density,
//! watched pin sets including pins ≥ 32, cut into blocks anywhere.

use super::*;
use crate::block::LevelWords;
use proptest::prelude::*;
use proptest::sample::Index;

/// A block of `words` (one 64-bit word per sample) starting at `t0_us`.
fn block(t0_us: u64, period_us: u32, words: LevelWords, samples: &[u64]) -> Block {
    let mut b = Block::new(period_us, words);
    b.t0_us = t0_us;
    for &s in samples {
        b.levels.push(s as u32);
        if words == LevelWords::Two {
            b.levels.push((s >> 32) as u32);
        }
    }
    b
}

/// The naive model: every sample against the previous one, pin by pin.
fn reference(samples: &[(u64, u64)], pins: &[u8]) -> Vec<Edge> {
    let mut out = Vec::new();
    for w in samples.windows(2) {
        let ((_, prev), (t_us, cur)) = (w[0], w[1]);
        for pin in 0..64u8 {
            if !pins.contains(&pin) {
                continue;
            }
            let (a, b) = ((prev >> pin) & 1, (cur >> pin) & 1);
            if a != b {
                out.push(Edge {
                    pin,
                    level: b as u8,
                    t_us,
                    after_gap: false,
                });
            }
        }
    }
    out
}

fn words() -> impl Strategy<Value = LevelWords> {
    prop_oneof![Just(LevelWords::One), Just(LevelWords::Two)]
}

/// Sample words: choppy ones (a change every other sample or so) or long steady runs (the
/// chunked scan's skip path, with changes landing anywhere in and across chunks).
fn samples(words: LevelWords) -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![choppy(words), runs(words)]
}

/// The bits a sample of `words` can have set (two words: all 64, even those no GPIO drives).
fn width(words: LevelWords) -> u64 {
    if words == LevelWords::One {
        u64::from(u32::MAX)
    } else {
        u64::MAX
    }
}

/// A change of a few random bits, or of one.
fn flip() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), (0u32..64).prop_map(|b| 1u64 << b)]
}

/// Sample words that often repeat the previous one and otherwise flip a few random bits.
fn choppy(words: LevelWords) -> impl Strategy<Value = Vec<u64>> {
    let width = width(words);
    (
        any::<u64>(),
        prop::collection::vec(prop_oneof![2 => Just(0u64), 3 => flip()], 1..300),
    )
        .prop_map(move |(first, flips)| {
            let mut cur = first & width;
            flips
                .into_iter()
                .map(|f| {
                    let s = cur;
                    cur = (cur ^ f) & width;
                    s
                })
                .collect()
        })
}

/// Runs of 1–150 equal samples (several chunks long or much shorter), each followed by a flip.
fn runs(words: LevelWords) -> impl Strategy<Value = Vec<u64>> {
    let width = width(words);
    (
        any::<u64>(),
        prop::collection::vec((1usize..150, flip()), 1..30),
    )
        .prop_map(move |(first, runs)| {
            let mut cur = first & width;
            let mut out = Vec::new();
            for (len, f) in runs {
                out.extend(std::iter::repeat(cur).take(len));
                cur = (cur ^ f) & width;
            }
            out
        })
}

/// A pin set drawn from all 64 bit positions (54–63 are not GPIOs but are accepted).
fn pins() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(0u8..64, 0..12),
        prop::collection::vec(0u8..70, 0..70),
    ]
}

proptest! {
    #[test]
    fn one_block_matches_reference(
        (w, s) in words().prop_flat_map(|w| (Just(w), samples(w))),
        pins in pins(),
        t0 in 0u64..1u64 << 52,
        period in 1u32..=100,
    ) {
        let mut d = Decoder::new(pins.iter().copied());
        let mut out = Vec::new();
        d.decode(&block(t0, period, w, &s), &mut out);
        let timed: Vec<(u64, u64)> =
            s.iter().enumerate().map(|(i, &x)| (t0 + i as u64 * u64::from(period), x)).collect();
        prop_assert_eq!(&out, &reference(&timed, &pins));
        let last = s[s.len() - 1];
        let want: Vec<PinLevel> = (0..64u8)
            .filter(|p| pins.contains(p))
            .map(|pin| PinLevel { pin, level: (last >> pin & 1) as u8 })
            .collect();
        prop_assert_eq!(d.levels(), Some(want));
    }

    #[test]
    fn split_blocks_give_the_same_edges(
        (w, s) in words().prop_flat_map(|w| (Just(w), samples(w))),
        pins in pins(),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        gaps in prop::collection::vec(0u64..1000, 8),
        period in 1u32..=10,
    ) {
        // Cut the samples into blocks (some empty), each block possibly after a time gap.
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(s.len() + 1)).collect();
        cuts.push(0);
        cuts.push(s.len());
        cuts.sort_unstable();
        let mut d = Decoder::new(pins.iter().copied());
        let mut out = Vec::new();
        let mut timed = Vec::new();
        let mut t = 1_000_000u64;
        for (k, c) in cuts.windows(2).enumerate() {
            t += gaps[k % gaps.len()];
            let part = &s[c[0]..c[1]];
            let b = block(t, period, w, part);
            for (i, &x) in part.iter().enumerate() {
                timed.push((b.time_of(i), x));
            }
            d.decode(&b, &mut out);
            t = b.end_us();
        }
        prop_assert_eq!(&out, &reference(&timed, &pins));

        // The same samples in one block (times differ by the gaps, edges otherwise agree).
        let mut whole = Decoder::new(pins.iter().copied());
        let mut one = Vec::new();
        whole.decode(&block(0, period, w, &s), &mut one);
        let strip = |v: &[Edge]| v.iter().map(|e| (e.pin, e.level)).collect::<Vec<_>>();
        prop_assert_eq!(strip(&out), strip(&one));
        prop_assert_eq!(d.levels(), whole.levels());
    }

    #[test]
    fn first_sample_sets_levels_without_edges(
        (w, s) in words().prop_flat_map(|w| (Just(w), samples(w))),
        pins in pins(),
    ) {
        let mut d = Decoder::new(pins.iter().copied());
        prop_assert_eq!(d.levels(), None);
        let mut out = Vec::new();
        d.decode(&block(5, 1, w, &[]), &mut out);
        prop_assert_eq!(d.levels(), None);
        d.decode(&block(5, 1, w, &s[..1]), &mut out);
        prop_assert!(out.is_empty());
        let levels = d.levels().unwrap_or_default();
        prop_assert_eq!(levels.len(), (0..64u8).filter(|p| pins.contains(p)).count());
        for l in levels {
            prop_assert_eq!(l.level, (s[0] >> l.pin & 1) as u8);
        }
    }
}

#[test]
fn edges_within_a_sample_are_in_pin_order() {
    let mut d = Decoder::new([40, 3, 17]);
    assert_eq!(d.mask(), 1 << 3 | 1 << 17 | 1 << 40);
    let mut out = Vec::new();
    let s = [0u64, 1 << 3 | 1 << 17 | 1 << 40 | 1 << 5];
    d.decode(&block(100, 2, LevelWords::Two, &s), &mut out);
    let e = |pin, t_us| Edge {
        pin,
        level: 1,
        t_us,
        after_gap: false,
    };
    assert_eq!(out, vec![e(3, 102), e(17, 102), e(40, 102)]);
}

proptest! {
    /// Blocks of one word after blocks of two (and back): the high pins of a two-word sample
    /// read as 0 in a one-word one, exactly as the naive model sees the truncated words.
    #[test]
    fn blocks_of_mixed_width_match_reference(
        parts in prop::collection::vec((words(), runs(LevelWords::Two)), 1..6),
        pins in pins(),
    ) {
        let mut d = Decoder::new(pins.iter().copied());
        let mut out = Vec::new();
        let mut timed = Vec::new();
        let mut t = 0u64;
        for (w, s) in parts {
            let s: Vec<u64> = s.into_iter().map(|x| x & width(w)).collect();
            let b = block(t, 1, w, &s);
            timed.extend(s.iter().enumerate().map(|(i, &x)| (b.time_of(i), x)));
            d.decode(&b, &mut out);
            t = b.end_us();
        }
        prop_assert_eq!(&out, &reference(&timed, &pins));
    }
}
