//! Unit tests of `rng`.

use super::*;

#[test]
fn deterministic_and_in_range() {
    let a: Vec<u64> = {
        let mut r = SplitMix64::new(7);
        (0..100).map(|_| r.range(20, 500)).collect()
    };
    let mut r = SplitMix64::new(7);
    let b: Vec<u64> = (0..100).map(|_| r.range(20, 500)).collect();
    assert_eq!(a, b);
    assert!(a.iter().all(|v| (20..=500).contains(v)));
    assert_ne!(SplitMix64::new(8).next_u64(), SplitMix64::new(7).next_u64());
    let _ = SplitMix64::new(1).range(0, u64::MAX);
    assert_eq!(SplitMix64::new(1).range(5, 5), 5);
}
