//! Unit tests of `invert`.

use super::*;
use crate::edges::{Edge, Gap};

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

#[test]
fn only_inverted_pins_flip_and_times_stay() {
    let inv = Inversion::of([17]);
    let mut chunk = EdgeChunk {
        initial: Some(vec![
            PinLevel { pin: 17, level: 0 },
            PinLevel { pin: 18, level: 0 },
        ]),
        gap: Some(Gap {
            from_us: 1,
            to_us: 2,
            samples: 3,
        }),
        edges: vec![edge(17, 1, 10), edge(18, 1, 10), edge(17, 0, 20)],
        until_us: 30,
    };
    let before = chunk.clone();
    inv.apply(&mut chunk);
    assert_eq!(
        chunk.initial,
        Some(vec![
            PinLevel { pin: 17, level: 1 },
            PinLevel { pin: 18, level: 0 },
        ])
    );
    assert_eq!(
        chunk.edges,
        vec![edge(17, 0, 10), edge(18, 1, 10), edge(17, 1, 20)]
    );
    assert_eq!((chunk.gap, chunk.until_us), (before.gap, before.until_us));
    // Applying it twice gives the electrical levels back.
    inv.apply(&mut chunk);
    assert_eq!(chunk, before);
}

#[test]
fn no_inversion_changes_nothing() {
    let mut chunk = EdgeChunk {
        initial: Some(vec![PinLevel { pin: 3, level: 1 }]),
        edges: vec![edge(3, 0, 5)],
        ..EdgeChunk::default()
    };
    let before = chunk.clone();
    Inversion::default().apply(&mut chunk);
    assert_eq!(chunk, before);
}

#[test]
fn levels_masks_and_changes() {
    let inv = Inversion::of([0, 53]);
    assert_eq!(inv.mask(), 1 | 1 << 53);
    assert!(inv.inverts(53) && !inv.inverts(1));
    assert_eq!(
        (inv.level(0, 0), inv.level(0, 1), inv.level(1, 1)),
        (1, 0, 1)
    );
    assert_eq!(inv.changed(&Inversion::of([53, 4])), 1 | 1 << 4);
    let mut l = vec![PinLevel { pin: 53, level: 1 }];
    inv.apply_levels(&mut l);
    assert_eq!(l, vec![PinLevel { pin: 53, level: 0 }]);
}
