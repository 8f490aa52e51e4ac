//! Unit tests of `size`.

use super::*;

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

#[test]
fn digits_of_edge_values() {
    for n in [0, 9, 10, 99, 100, 999_999, 1_000_000, u64::MAX] {
        assert_eq!(digits(n), n.to_string().len(), "{n}");
    }
}

#[test]
fn the_format_reads_from_the_config_by_name() {
    #[derive(Deserialize)]
    struct S {
        format: BatchFormat,
    }
    for f in [BatchFormat::Json, BatchFormat::Columnar] {
        let s: S = toml::from_str(&format!("format = \"{}\"", f.name())).expect("known name");
        assert_eq!(s.format, f);
    }
    assert!(toml::from_str::<S>("format = \"cbor\"").is_err());
    assert_eq!(BatchFormat::default(), BatchFormat::Json);
}

#[test]
fn json_costs_the_widest_edge() {
    let mut b = SizeBound::new(BatchFormat::Json);
    b.add_edge(&edge(3, 1, 5), b.edge_cost(&edge(3, 1, 5), 0));
    b.add_gap();
    b.add_rate_limited();
    let want = HEADER_MAX_BYTES + EDGE_MAX_BYTES + GAP_MAX_BYTES + RATE_LIMITED_MAX_BYTES;
    assert_eq!(b.bytes(), want);
    b.reset();
    assert_eq!(b.bytes(), HEADER_MAX_BYTES);
}

#[test]
fn columnar_costs_a_run_then_the_delta_digits() {
    let mut b = SizeBound::new(BatchFormat::Columnar);
    assert_eq!(b.edge_cost(&edge(18, 1, 1000), 0), RUN_MAX_BYTES);
    b.add_edge(&edge(18, 1, 1000), RUN_MAX_BYTES);
    // `,500`
    assert_eq!(b.edge_cost(&edge(18, 0, 1500), 1), 4);
    // Same level again: a new run.
    assert_eq!(b.edge_cost(&edge(18, 1, 1500), 1), RUN_MAX_BYTES);
    // Earlier than the run's last edge: a minus sign.
    assert_eq!(b.edge_cost(&edge(18, 0, 999), 1), 3);
    // Another pin: its own run; a flagged edge adds its index and a comma.
    let flagged = Edge {
        after_gap: true,
        ..edge(17, 1, 5)
    };
    assert_eq!(b.edge_cost(&flagged, 100), RUN_MAX_BYTES + 4);
    b.add_edge(&edge(18, 0, 1500), b.edge_cost(&edge(18, 0, 1500), 1));
    assert_eq!(b.bytes(), HEADER_MAX_BYTES + RUN_MAX_BYTES + 4);
    b.reset();
    assert_eq!(b.bytes(), HEADER_MAX_BYTES);
    assert_eq!(
        b.edge_cost(&edge(18, 0, 1600), 0),
        RUN_MAX_BYTES,
        "runs end with the batch"
    );
}
