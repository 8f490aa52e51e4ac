//! Writer tests: the header, misuse errors, and round trips through the parser.

use crate::edges::{Edge, PinLevel};
use crate::vcd::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const ORIGIN: u64 = 1_700_000_000_000_000;

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

#[test]
fn writes_a_readable_file() {
    let pins = [(17, "front door".to_string()), (18, String::new())];
    let mut w = VcdWriter::new(Vec::new(), &pins, ORIGIN).unwrap();
    w.initial(&[PinLevel { pin: 17, level: 1 }], ORIGIN)
        .unwrap();
    w.edge(&edge(18, 1, ORIGIN + 5)).unwrap();
    w.edge(&edge(17, 0, ORIGIN + 5)).unwrap();
    w.mark(ORIGIN + 9).unwrap();
    let text = String::from_utf8(w.finish().unwrap()).unwrap();
    assert!(
        text.contains("$date 2023-11-14T22:13:20.000000Z $end"),
        "{text}"
    );
    assert!(text.contains(&format!("UTC {ORIGIN} us")), "{text}");
    assert!(text.contains("$comment gpio17: front door $end"), "{text}");
    assert!(text.contains("$timescale 1 us $end"), "{text}");
    let t = parse(&text).unwrap();
    assert_eq!(t.initial(), 1 << 17);
    let cs: Vec<_> = t
        .changes()
        .iter()
        .map(|c| (c.t_fs, c.pin, c.level))
        .collect();
    assert_eq!(cs, vec![(5 * FS_PER_US, 17, 0), (5 * FS_PER_US, 18, 1)]);
    assert_eq!(t.end_fs(), 9 * FS_PER_US);
}

#[test]
fn names_cannot_break_the_header() {
    let pins = [(4, "evil $end\n#5 name".to_string())];
    let w = VcdWriter::new(Vec::new(), &pins, 0).unwrap();
    let t = parse(&String::from_utf8(w.finish().unwrap()).unwrap()).unwrap();
    assert_eq!(t.pins(), 1 << 4);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let pins = [(5, String::new())];
    assert!(matches!(
        VcdWriter::new(Vec::new(), &[(54, String::new())], 0),
        Err(VcdError::BadPin { pin: 54, .. })
    ));
    assert!(matches!(
        VcdWriter::new(Vec::new(), &[(5, String::new()), (5, String::new())], 0),
        Err(VcdError::BadPin { pin: 5, .. })
    ));
    let mut w = VcdWriter::new(Vec::new(), &pins, 100).unwrap();
    assert!(matches!(
        w.edge(&edge(5, 1, 99)),
        Err(VcdError::BeforeOrigin {
            t_us: 99,
            origin_us: 100
        })
    ));
    assert!(matches!(
        w.edge(&edge(6, 1, 200)),
        Err(VcdError::UndeclaredPin { pin: 6 })
    ));
    w.edge(&edge(5, 1, 200)).unwrap();
    assert!(matches!(
        w.edge(&edge(5, 0, 150)),
        Err(VcdError::OutOfOrder {
            t_us: 150,
            last_us: 200
        })
    ));
}

#[test]
fn write_trace_keeps_sub_microsecond_times() {
    let mut b = TraceBuilder::new();
    b.initial(2, 1)
        .change(1_500_000, 2, 0)
        .change(FS_PER_US * 3, 40, 1)
        .end_at(FS_PER_US * 4);
    let t = b.build();
    let text = String::from_utf8(write_trace(&t, Vec::new()).unwrap()).unwrap();
    assert!(
        text.contains("$timescale 100 ns $end") || text.contains("ns"),
        "{text}"
    );
    assert_eq!(parse(&text).unwrap(), t);
}

/// The reference meaning of a stream of edges: per time, last level wins, no-ops dropped.
fn expected(initial: u64, edges: &[Edge]) -> Vec<(u64, u8, u8)> {
    let mut out = Vec::new();
    let mut cur = initial;
    let mut i = 0;
    while i < edges.len() {
        let t = edges[i].t_us;
        let mut group: BTreeMap<u8, u8> = BTreeMap::new();
        while i < edges.len() && edges[i].t_us == t {
            group.insert(edges[i].pin, edges[i].level);
            i += 1;
        }
        for (pin, level) in group {
            if (cur >> pin & 1) as u8 != level {
                cur ^= 1 << pin;
                out.push((t - ORIGIN, pin, level));
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn round_trip(
        pin_set in proptest::collection::btree_set(0u8..54, 1..8),
        initial in any::<u64>(),
        steps in proptest::collection::vec((any::<prop::sample::Index>(), 0u64..3, 0u8..2), 0..80),
    ) {
        let pins: Vec<(u8, String)> = pin_set.iter().map(|p| (*p, format!("pin {p}"))).collect();
        let mask = pin_set.iter().fold(0u64, |m, p| m | 1 << p);
        // Edges at the origin itself would read back as part of the initial levels.
        let mut t = ORIGIN + 1;
        let edges: Vec<Edge> = steps.iter().map(|(idx, dt, level)| {
            t += dt;
            edge(pins[idx.index(pins.len())].0, *level, t)
        }).collect();
        let mut w = VcdWriter::new(Vec::new(), &pins, ORIGIN).unwrap();
        w.initial_word(initial, ORIGIN).unwrap();
        for e in &edges {
            w.edge(e).unwrap();
        }
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        let trace = parse(&text).unwrap();
        prop_assert_eq!(trace.pins(), mask);
        prop_assert_eq!(trace.initial(), initial & mask);
        let got: Vec<_> = trace.changes().iter()
            .map(|c| ((c.t_fs / FS_PER_US) as u64, c.pin, c.level)).collect();
        prop_assert_eq!(got, expected(initial & mask, &edges));
    }

    #[test]
    fn trace_round_trip(
        initial in any::<u64>(),
        cs in proptest::collection::vec((1u128..5_000_000_000, 0u8..54, 0u8..2), 0..40),
        unit in prop::sample::select(vec![1u128, 1_000, 1_000_000, FS_PER_US]),
    ) {
        let mut b = TraceBuilder::new();
        for pin in 0..54u8 {
            b.initial(pin, (initial >> pin & 1) as u8);
        }
        for (t, pin, level) in cs {
            b.change(t * unit, pin, level);
        }
        let t = b.build();
        let text = String::from_utf8(write_trace(&t, Vec::new()).unwrap()).unwrap();
        prop_assert_eq!(parse(&text).unwrap(), t);
    }
}

#[test]
fn an_edge_after_a_gap_is_preceded_by_a_comment_viewers_skip() {
    let pins = [(17, String::new()), (18, String::new())];
    let mut w = VcdWriter::new(Vec::new(), &pins, ORIGIN).unwrap();
    w.initial(&[], ORIGIN).unwrap();
    w.edge(&edge(18, 1, ORIGIN + 5)).unwrap();
    let marked = Edge {
        after_gap: true,
        ..edge(17, 1, ORIGIN + 9)
    };
    w.edge(&marked).unwrap();
    let text = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        text.matches("$comment after_gap pin 17 $end").count(),
        1,
        "{text}"
    );
    assert!(!text.contains("pin 18 $end"), "{text}");
    let at = text.find("#9").unwrap();
    let comment = text.find("$comment after_gap").unwrap();
    assert!(at < comment, "{text}");
    // The value change itself reads back as before.
    let trace = parse(&text).unwrap();
    assert_eq!(trace.final_levels(), 1 << 17 | 1 << 18);
}
