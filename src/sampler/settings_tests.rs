//! Tests of the block size the settings give.

use super::*;

fn with(period_us: u32, block_ms: Option<u32>, block_samples: Option<u32>) -> SamplerConfig {
    SamplerConfig {
        period_us,
        block_ms,
        block_samples,
        ..SamplerConfig::default()
    }
}

#[test]
fn the_default_block_is_a_time_at_any_period() {
    for (period, samples) in [(1, 5000), (5, 1000), (7, 714), (1000, 5)] {
        let s = with(period, None, None);
        assert_eq!(s.samples_per_block(), samples, "period {period} µs");
        assert!(s.block_us() <= u64::from(DEFAULT_BLOCK_MS) * 1000);
    }
}

#[test]
fn a_block_holds_at_least_one_sample() {
    // A 1 ms block at a 1 s period: one sample per block, never none.
    assert_eq!(with(1_000_000, Some(1), None).samples_per_block(), 1);
    assert_eq!(with(1_000_000, Some(1), None).block_us(), 1_000_000);
}

#[test]
fn block_samples_counts_samples_whatever_the_period() {
    assert_eq!(with(1, None, Some(250)).samples_per_block(), 250);
    assert_eq!(with(20, None, Some(250)).block_us(), 5000);
    assert_eq!(with(1, Some(10), None).samples_per_block(), 10_000);
}
