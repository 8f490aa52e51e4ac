use super::*;
use proptest::prelude::*;

fn hist(values: &[u64]) -> LatencyHistogram {
    let mut h = LatencyHistogram::default();
    for &v in values {
        h.record(Duration::from_micros(v));
    }
    h
}

/// The reference: nearest rank on the sorted values.
fn reference(values: &[u64], q: f64) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[rank(q, sorted.len() as u64) as usize - 1]
}

#[test]
fn layout_covers_u64_with_exact_small_values() {
    assert_eq!(BUCKETS, 976);
    assert_eq!(index(0), 0);
    assert_eq!(index(15), 15);
    assert_eq!(index(16), 16);
    assert_eq!(index(31), 31);
    assert_eq!(index(32), 32);
    assert_eq!(index(33), 32, "32 and 33 share a 2 µs bucket");
    assert_eq!(index(u64::MAX), BUCKETS - 1);
    assert_eq!(bounds(32), (32, 2));
    assert_eq!(representative(32), 32.5);
    assert_eq!(bounds(BUCKETS - 1), (31 << 59, 1 << 59));
}

#[test]
fn empty_has_no_quantile() {
    assert_eq!(LatencyHistogram::default().quantile_us(0.5), None);
}

#[test]
fn quantiles_of_a_known_set() {
    let values: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
    let h = hist(&values);
    assert_eq!(h.len(), 100);
    // 50 ms is in [49152, 51200): reported as its middle, 1.6 % off.
    assert_eq!(h.quantile_us(0.5), Some(representative(index(50_000))));
    assert!((h.quantile_us(0.5).unwrap() - 50_000.0).abs() <= 50_000.0 / 32.0);
    assert!((h.quantile_us(0.99).unwrap() - 99_000.0).abs() <= 99_000.0 / 32.0);
    let mut h = h;
    h.clear();
    assert_eq!(h.len(), 0);
    assert_eq!(h.quantile_us(0.99), None);
}

#[test]
fn huge_latency_does_not_overflow() {
    let mut h = LatencyHistogram::default();
    h.record(Duration::MAX);
    assert!(h.quantile_us(1.0).unwrap() > 1e18);
}

proptest! {
    #[test]
    fn bucket_holds_its_values(v in any::<u64>()) {
        let i = index(v);
        let (low, width) = bounds(i);
        prop_assert!(low <= v && v - low < width);
        prop_assert!(i < BUCKETS);
        if let Some(next) = v.checked_add(1) {
            prop_assert!(index(next) >= i, "index is monotonic");
        }
    }

    #[test]
    fn quantile_matches_sorted_reference(
        values in prop::collection::vec(
            prop_oneof![0u64..64, 0u64..20_000, 0u64..10_000_000, any::<u64>()], 1..400),
        q in 0.0f64..=1.0,
    ) {
        let h = hist(&values);
        let exact = reference(&values, q);
        let got = h.quantile_us(q).unwrap();
        // The very bucket of the reference value…
        prop_assert_eq!(got, representative(index(exact)));
        // …so within 1/32 of it (exact below 16 µs).
        prop_assert!((got - exact as f64).abs() <= exact as f64 / 32.0 + 0.5,
            "q {} got {} exact {}", q, got, exact);
    }
}
