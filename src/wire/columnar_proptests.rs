//! Property tests of `columnar`: what a consumer decodes from it is what the object format says,
//! and the batcher's size bound keeps every encoded batch under `batch.max_bytes`.

use proptest::prelude::*;
use serde_json::Value;

use crate::edges::batch::{Batch, BatchFormat, Batcher};
use crate::edges::{Edge, Gap, RateLimited};
use crate::wire::{decode_batch, encode_batch};

/// A consumer written from the format's description alone (as the README's Python and
/// JavaScript examples are), on a generic JSON value: the reference the encoder must satisfy.
fn reference_consumer(payload: &[u8]) -> Vec<Edge> {
    let v: Value = serde_json::from_slice(payload).expect("JSON");
    assert_eq!(v["v"], 2);
    let int = |n: &Value| {
        n.as_i64()
            .map(i128::from)
            .or(n.as_u64().map(i128::from))
            .expect("an integer")
    };
    let t0 = int(&v["t0_us"]);
    let mut edges = Vec::new();
    for run in v["pins"].as_array().expect("pins") {
        let pin = run["pin"].as_u64().expect("pin") as u8;
        let mut level = run["level"].as_u64().expect("level") as u8;
        let mut t = t0;
        let start = edges.len();
        for (k, dt) in run["dt_us"].as_array().expect("dt_us").iter().enumerate() {
            t += int(dt);
            if k > 0 {
                level = 1 - level;
            }
            edges.push(Edge {
                pin,
                level,
                t_us: u64::try_from(t).expect("a time"),
                after_gap: false,
            });
        }
        for k in run["after_gap"].as_array().into_iter().flatten() {
            let k = k.as_u64().expect("index") as usize;
            edges[start + k].after_gap = true;
        }
    }
    edges
}

/// Edges grouped by pin, each pin's in their order: what both formats agree on.
fn per_pin(edges: &[Edge]) -> Vec<Edge> {
    let mut e = edges.to_vec();
    e.sort_by_key(|e| e.pin);
    e
}

fn arb_edges() -> impl Strategy<Value = Vec<Edge>> {
    // Times below 2^63, so that any two differ by an i64, as every JSON library reads it.
    let edge = (0u8..=63, 0u8..=1, 0u64..1 << 63, prop::bool::weighted(0.1));
    let any_order = prop::collection::vec(edge, 0..80).prop_map(|v| {
        v.into_iter()
            .map(|(pin, level, t_us, after_gap)| Edge {
                pin,
                level,
                t_us,
                after_gap,
            })
            .collect::<Vec<_>>()
    });
    // What filters release: time-ordered, mostly alternating levels per pin.
    let released = (
        0u64..1 << 60,
        prop::collection::vec((0u8..6, 0u64..3000, prop::bool::weighted(0.05)), 0..200),
    )
        .prop_map(|(start, steps)| {
            let mut level = [0u8; 6];
            let mut t = start;
            steps
                .into_iter()
                .map(|(p, dt, skip)| {
                    t += dt;
                    level[usize::from(p)] ^= u8::from(!skip);
                    Edge {
                        pin: 16 + p,
                        level: level[usize::from(p)],
                        t_us: t,
                        after_gap: skip,
                    }
                })
                .collect()
        });
    prop_oneof![any_order, released]
}

fn arb_gap() -> impl Strategy<Value = Gap> {
    (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(f, t, s, e)| Gap {
        from_us: f,
        to_us: t,
        samples: s,
        edges: e,
    })
}

proptest! {
    #[test]
    fn columnar_decodes_to_the_object_formats_edges(
        device in "[a-z0-9-]{1,64}",
        run in any::<u64>(),
        seq in any::<u64>(),
        edges in arb_edges(),
        gaps in prop::collection::vec(arb_gap(), 0..3),
        limited in prop::collection::vec((0u8..=53, 1u64..u64::MAX), 0..3),
    ) {
        let mut b = Batch {
            run,
            seq,
            edges,
            gaps,
            rate_limited: limited.into_iter().map(|(pin, edges)| RateLimited { pin, edges }).collect(),
            ..Batch::default()
        };
        let mut buf = Vec::new();
        encode_batch(&mut buf, &device, &b);
        let objects = decode_batch(&buf).expect("object JSON");
        b.format = BatchFormat::Columnar;
        encode_batch(&mut buf, &device, &b);
        let columnar = decode_batch(&buf).expect("columnar JSON");
        prop_assert_eq!(per_pin(&reference_consumer(&buf)), per_pin(&objects.edges));
        prop_assert_eq!(&columnar.edges, &per_pin(&objects.edges));
        prop_assert_eq!((columnar.v, objects.v), (2, 1));
        prop_assert_eq!(
            (&columnar.device, columnar.run, columnar.seq, &columnar.gaps, &columnar.rate_limited),
            (&objects.device, objects.run, objects.seq, &objects.gaps, &objects.rate_limited)
        );
    }

    #[test]
    fn the_batcher_closes_before_max_bytes_in_every_format(
        edges in arb_edges(),
        gaps_at in prop::collection::vec(0usize..200, 0..3),
        max_bytes in 1024usize..6000,
        columnar in any::<bool>(),
    ) {
        let format = if columnar { BatchFormat::Columnar } else { BatchFormat::Json };
        let mut b = Batcher::new(u64::MAX, 65_536, u64::MAX);
        prop_assert!(b.set_format(format).is_none());
        prop_assert!(b.set_max_bytes(max_bytes).is_none());
        let mut closed = Vec::new();
        for (i, e) in edges.iter().enumerate() {
            if gaps_at.contains(&i) {
                b.push_gap(Gap { from_us: u64::MAX, to_us: u64::MAX, samples: u64::MAX, edges: u64::MAX });
                b.push_rate_limited(RateLimited { pin: 53, edges: 1 << 62 }, e.t_us);
            }
            closed.extend(b.push(*e));
        }
        closed.extend(b.flush());
        prop_assert_eq!(closed.iter().map(|c| c.edges.len()).sum::<usize>(), edges.len());
        let mut buf = Vec::new();
        let id = "a".repeat(64);
        for c in &closed {
            prop_assert_eq!(c.format, format);
            encode_batch(&mut buf, &id, c);
            prop_assert!(buf.len() <= max_bytes, "seq {}: {} > {max_bytes}", c.seq, buf.len());
        }
    }
}
