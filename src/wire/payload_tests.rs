use super::*;
use crate::edges::{Edge, Gap, RateLimited};
use proptest::prelude::*;

fn batch(edges: Vec<Edge>, gaps: Vec<Gap>) -> Batch {
    Batch {
        run: 123,
        seq: 0,
        edges,
        gaps,
        ..Batch::default()
    }
}

#[test]
fn exact_layout_without_gaps() {
    let b = batch(
        vec![Edge {
            pin: 17,
            level: 1,
            t_us: 1_764_040_000_123_456,
            after_gap: false,
        }],
        vec![],
    );
    let mut buf = Vec::new();
    encode_batch(&mut buf, "pi-01", &b);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"v":1,"device":"pi-01","run":123,"seq":0,"edges":[{"pin":17,"level":1,"t_us":1764040000123456}]}"#
    );
}

#[test]
fn gaps_present_when_non_empty_and_buffer_is_reused() {
    let b = batch(
        vec![],
        vec![Gap {
            from_us: 1,
            to_us: 2,
            samples: 3,
            edges: 0,
        }],
    );
    let mut buf = b"garbage".to_vec();
    encode_batch(&mut buf, "d", &b);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"v":1,"device":"d","run":123,"seq":0,"edges":[],"gaps":[{"from_us":1,"to_us":2,"samples":3}]}"#
    );
}

#[test]
fn rate_limited_marker_after_gaps() {
    let mut b = batch(
        vec![],
        vec![Gap {
            from_us: 1,
            to_us: 2,
            samples: 3,
            edges: 0,
        }],
    );
    b.rate_limited = vec![
        RateLimited { pin: 4, edges: 1 },
        RateLimited {
            pin: 18,
            edges: 12345,
        },
    ];
    let mut buf = Vec::new();
    encode_batch(&mut buf, "d", &b);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"v":1,"device":"d","run":123,"seq":0,"edges":[],"gaps":[{"from_us":1,"to_us":2,"samples":3}],"rate_limited":[{"pin":4,"edges":1},{"pin":18,"edges":12345}]}"#
    );
    b.gaps.clear();
    encode_batch(&mut buf, "d", &b);
    let decoded = decode_batch(&buf).unwrap();
    assert!(decoded.gaps.is_empty());
    assert_eq!(decoded.rate_limited, b.rate_limited);
}

#[test]
fn a_gap_of_lost_edges_says_how_many() {
    let b = batch(
        vec![],
        vec![Gap {
            from_us: 1,
            to_us: 2,
            samples: 0,
            edges: 4,
        }],
    );
    let mut buf = Vec::new();
    encode_batch(&mut buf, "d", &b);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"v":1,"device":"d","run":123,"seq":0,"edges":[],"gaps":[{"from_us":1,"to_us":2,"samples":0,"edges":4}]}"#
    );
    assert_eq!(decode_batch(&buf).unwrap().gaps, b.gaps);
}

#[test]
fn extreme_numbers() {
    let mut buf = Vec::new();
    for n in [0, 9, 10, 99, 100, u64::MAX] {
        buf.clear();
        push_u64(&mut buf, n);
        assert_eq!(std::str::from_utf8(&buf).unwrap(), n.to_string());
    }
}

#[test]
fn decode_rejects_garbage() {
    assert!(decode_batch(b"{\"v\":1}").is_err());
    assert!(decode_batch(b"not json").is_err());
}

fn arb_edge() -> impl Strategy<Value = Edge> {
    (0u8..=53, 0u8..=1, any::<u64>(), any::<bool>()).prop_map(|(pin, level, t_us, after_gap)| {
        Edge {
            pin,
            level,
            t_us,
            after_gap,
        }
    })
}

#[test]
fn an_edge_after_a_gap_says_so_and_reads_back() {
    let e = |t_us, after_gap| Edge {
        pin: 17,
        level: 1,
        t_us,
        after_gap,
    };
    let b = batch(vec![e(5, false), e(9, true)], Vec::new());
    let mut buf = Vec::new();
    encode_batch(&mut buf, "d", &b);
    assert_eq!(
        std::str::from_utf8(&buf).unwrap(),
        r#"{"v":1,"device":"d","run":123,"seq":0,"edges":[{"pin":17,"level":1,"t_us":5},{"pin":17,"level":1,"t_us":9,"after_gap":true}]}"#
    );
    assert_eq!(decode_batch(&buf).unwrap().edges, b.edges);
}

fn arb_gap() -> impl Strategy<Value = Gap> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        prop_oneof![Just(0), any::<u64>()],
    )
        .prop_map(|(from_us, to_us, samples, edges)| Gap {
            from_us,
            to_us,
            samples,
            edges,
        })
}

fn arb_limited() -> impl Strategy<Value = RateLimited> {
    (0u8..=53, any::<u64>()).prop_map(|(pin, edges)| RateLimited { pin, edges })
}

proptest! {
    #[test]
    fn round_trip(
        device in any::<String>(),
        run in any::<u64>(),
        seq in any::<u64>(),
        edges in proptest::collection::vec(arb_edge(), 0..64),
        gaps in proptest::collection::vec(arb_gap(), 0..4),
        rate_limited in proptest::collection::vec(arb_limited(), 0..4),
    ) {
        let b = Batch {
            run,
            seq,
            edges: edges.clone(),
            gaps: gaps.clone(),
            rate_limited: rate_limited.clone(),
            levels: Vec::new(),
            format: BatchFormat::Json,
        };
        let mut buf = Vec::new();
        encode_batch(&mut buf, &device, &b);
        let decoded = decode_batch(&buf).expect("valid JSON");
        let want = BatchPayload { v: 1, device, run, seq, edges, gaps, rate_limited };
        prop_assert_eq!(decoded, want);
    }
}

#[test]
fn the_batcher_byte_bounds_hold_for_the_widest_entries() {
    use crate::edges::batch::{
        Batcher, EDGE_MAX_BYTES, GAP_MAX_BYTES, HEADER_MAX_BYTES, RATE_LIMITED_MAX_BYTES,
    };
    let id = "a".repeat(64);
    let edge = Edge {
        pin: 63,
        level: 1,
        t_us: u64::MAX,
        after_gap: true,
    };
    let gap = Gap {
        from_us: u64::MAX,
        to_us: u64::MAX,
        samples: u64::MAX,
        edges: u64::MAX,
    };
    let wide = |edges: usize, gaps: usize, limited: usize| Batch {
        run: u64::MAX,
        seq: u64::MAX,
        edges: vec![edge; edges],
        gaps: vec![gap; gaps],
        rate_limited: (0..limited as u8)
            .map(|pin| RateLimited {
                pin,
                edges: u64::MAX,
            })
            .collect(),
        ..Batch::default()
    };
    let mut buf = Vec::new();
    for (e, g, l) in [(0, 0, 0), (1, 0, 0), (100, 0, 0), (3, 2, 64)] {
        encode_batch(&mut buf, &id, &wide(e, g, l));
        let bound =
            HEADER_MAX_BYTES + e * EDGE_MAX_BYTES + g * GAP_MAX_BYTES + l * RATE_LIMITED_MAX_BYTES;
        assert!(buf.len() <= bound, "{e} {g} {l}: {} > {bound}", buf.len());
    }
    // The batcher closes before the limit: every encoded batch fits in 1000 bytes.
    let mut b = Batcher::new(u64::MAX, 65_536, u64::MAX);
    assert!(b.set_max_bytes(1000).is_none());
    let mut closed = Vec::new();
    for i in 0..1000u64 {
        closed.extend(b.push(Edge {
            t_us: u64::MAX - 1000 + i,
            ..edge
        }));
    }
    closed.extend(b.flush());
    assert_eq!(closed.iter().map(|c| c.edges.len()).sum::<usize>(), 1000);
    assert!(closed.len() > 1);
    for c in &closed {
        encode_batch(&mut buf, &id, c);
        assert!(buf.len() <= 1000, "seq {}: {} bytes", c.seq, buf.len());
    }
}
