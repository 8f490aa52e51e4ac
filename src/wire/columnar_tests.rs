//! Unit tests of `columnar`.

use super::*;
use crate::edges::batch::BatchFormat;
use crate::wire::{decode_batch, encode_batch};

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

fn batch(edges: Vec<Edge>) -> Batch {
    Batch {
        run: 123,
        seq: 4,
        edges,
        format: BatchFormat::Columnar,
        ..Batch::default()
    }
}

fn encoded(b: &Batch) -> String {
    let mut buf = b"garbage".to_vec();
    encode_batch(&mut buf, "pi-01", b);
    String::from_utf8(buf).expect("UTF-8")
}

#[test]
fn exact_layout_runs_per_pin_in_pin_order() {
    let t = 1_764_040_000_000_000;
    let b = batch(vec![
        edge(18, 1, t + 120),
        edge(17, 1, t),
        edge(18, 0, t + 620),
        edge(18, 1, t + 1120),
    ]);
    assert_eq!(
        encoded(&b),
        r#"{"v":2,"device":"pi-01","run":123,"seq":4,"t0_us":1764040000000000,"pins":[{"pin":17,"level":1,"dt_us":[0]},{"pin":18,"level":1,"dt_us":[120,500,500]}]}"#
    );
    let d = decode_batch(encoded(&b).as_bytes()).expect("decodes");
    assert_eq!(d.v, 2);
    assert_eq!(
        d.edges,
        vec![b.edges[1], b.edges[0], b.edges[2], b.edges[3]]
    );
}

#[test]
fn a_repeated_level_starts_a_new_run() {
    // A rate limit dropped the fall between the two rises.
    let b = batch(vec![edge(4, 1, 10), edge(4, 1, 30), edge(4, 0, 35)]);
    assert_eq!(
        encoded(&b),
        r#"{"v":2,"device":"pi-01","run":123,"seq":4,"t0_us":10,"pins":[{"pin":4,"level":1,"dt_us":[0]},{"pin":4,"level":1,"dt_us":[20,5]}]}"#
    );
    assert_eq!(decode_batch(encoded(&b).as_bytes()).unwrap().edges, b.edges);
}

#[test]
fn after_gap_indices_count_within_the_run() {
    let mut e = vec![edge(5, 0, 7), edge(4, 1, 10), edge(5, 1, 9), edge(4, 0, 12)];
    e[2].after_gap = true;
    e[3].after_gap = true;
    let b = batch(e);
    assert_eq!(
        encoded(&b),
        r#"{"v":2,"device":"pi-01","run":123,"seq":4,"t0_us":7,"pins":[{"pin":4,"level":1,"dt_us":[3,2],"after_gap":[1]},{"pin":5,"level":0,"dt_us":[0,2],"after_gap":[1]}]}"#
    );
    let mut want = b.edges.clone();
    want.sort_by_key(|e| e.pin);
    assert_eq!(decode_batch(encoded(&b).as_bytes()).unwrap().edges, want);
}

#[test]
fn gaps_and_rate_limits_as_in_the_object_format() {
    let mut b = batch(vec![]);
    b.gaps = vec![Gap {
        from_us: 1,
        to_us: 2,
        samples: 0,
        edges: 4,
    }];
    b.rate_limited = vec![RateLimited { pin: 18, edges: 9 }];
    assert_eq!(
        encoded(&b),
        r#"{"v":2,"device":"pi-01","run":123,"seq":4,"t0_us":0,"pins":[],"gaps":[{"from_us":1,"to_us":2,"samples":0,"edges":4}],"rate_limited":[{"pin":18,"edges":9}]}"#
    );
    let d = decode_batch(encoded(&b).as_bytes()).unwrap();
    assert_eq!((d.gaps, d.rate_limited), (b.gaps, b.rate_limited));
}

#[test]
fn out_of_order_times_of_a_pin_go_negative_and_read_back() {
    let b = batch(vec![
        edge(3, 1, u64::MAX),
        edge(3, 0, 0),
        edge(3, 1, u64::MAX),
    ]);
    let text = encoded(&b);
    assert!(
        text.contains(r#""t0_us":0,"pins":[{"pin":3,"level":1,"dt_us":[18446744073709551615,-18446744073709551615,18446744073709551615]}"#),
        "{text}"
    );
    assert_eq!(decode_batch(text.as_bytes()).unwrap().edges, b.edges);
}

#[test]
fn decode_refuses_what_no_encoder_writes() {
    let head = r#"{"v":2,"device":"d","run":1,"seq":0,"t0_us":5,"pins":"#;
    for (pins, why) in [
        (r#"[{"pin":1,"level":1,"dt_us":[-6]}]}"#, "before 0"),
        (
            r#"[{"pin":1,"level":1,"dt_us":[1],"after_gap":[1]}]}"#,
            "index past the run",
        ),
        (r#"[{"pin":1,"level":1}]}"#, "no dt_us"),
        (r#"[{"pin":1,"level":1,"dt_us":[1.5]}]}"#, "not an integer"),
    ] {
        let text = format!("{head}{pins}");
        assert!(decode_batch(text.as_bytes()).is_err(), "{why}: {text}");
    }
    assert!(decode_batch(br#"{"v":2,"device":"d","run":1,"seq":0}"#).is_err());
}
