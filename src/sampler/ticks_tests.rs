//! Unit tests of `ticks`.

use super::*;
use proptest::prelude::*;

#[test]
fn wraps_are_extended() {
    let mut x = TickExtender::new();
    assert_eq!(x.extend(u32::MAX - 10), u64::from(u32::MAX - 10));
    assert_eq!(x.extend(5), (1u64 << 32) + 5);
    assert_eq!(
        x.extend(u32::MAX - 2),
        u64::from(u32::MAX - 2),
        "a late tick goes back"
    );
    assert_eq!(x.extend(100), (1u64 << 32) + 100);
}

proptest! {
    #[test]
    fn extension_matches_a_64_bit_counter(start in any::<u64>().prop_map(|s| s >> 8),
                                          steps in proptest::collection::vec(0u64..(1 << 31), 1..50)) {
        let mut x = TickExtender::new();
        let mut t = start;
        let base = x.extend(t as u32);
        let mut truth = base;
        for s in steps {
            t += s;
            truth += s;
            prop_assert_eq!(x.extend(t as u32), truth);
        }
    }
}

#[test]
fn utc_uses_the_midpoint_offset() {
    let mut m = UtcMapper::new();
    assert_eq!(m.utc(10), 10);
    m.estimate(1_000_000_100, 500, 1_000_000_110);
    assert_eq!(m.utc(500), 1_000_000_105);
    assert_eq!(m.utc(1500), 1_000_001_105);
}
