//! Unit tests of `ring`.

#[test]
fn samples_left_counts_from_the_cb_the_engine_is_on() {
    use super::samples_left;
    // On the tick CB or the first level read: the whole block is to come.
    assert_eq!(samples_left(0, 1000), 1000);
    assert_eq!(samples_left(1, 1000), 1000);
    // Pacing sample 0 (CB 2): it is read, not yet paced out; reading sample 1 (CB 3).
    assert_eq!(samples_left(2, 1000), 1000);
    assert_eq!(samples_left(3, 1000), 999);
    // The last pace CB of the block.
    assert_eq!(samples_left(2000, 1000), 1);
    assert_eq!(samples_left(5000, 1000), 0);
}

#[test]
fn waits_end_just_past_the_block_within_bounds() {
    use super::{block_wait_us, MAX_WAIT_US};
    assert_eq!(block_wait_us(0), 50);
    assert_eq!(block_wait_us(1000), 1020);
    assert_eq!(block_wait_us(5000), 5100);
    assert_eq!(block_wait_us(10_000_000), MAX_WAIT_US);
}

use super::*;

#[test]
fn only_the_block_being_filled_waits() {
    assert_eq!(ready(3, 3), Ready::Wait);
    assert_eq!(ready(3, 4), Ready::Block);
    assert_eq!(ready(3, 2), Ready::Block, "lapped: still a complete block");
}

#[test]
fn on_time_and_jittered_blocks_lose_nothing() {
    assert_eq!(lost_samples(1000, 100, 5, 1500), 0);
    assert_eq!(
        lost_samples(1000, 100, 5, 1516),
        0,
        "a 16 µs stall is not a loss"
    );
    assert_eq!(lost_samples(1000, 100, 5, 1497), 0, "early");
}

#[test]
fn a_lapped_ring_loses_whole_blocks_exactly() {
    // Blocks of 100 samples at 5 µs; three blocks (1500 µs) were overwritten.
    assert_eq!(lost_samples(1000, 100, 5, 1500 + 1500), 300);
    assert_eq!(
        lost_samples(1000, 100, 5, 1500 + 1502),
        300,
        "jitter rounds away"
    );
}

#[test]
fn a_block_slower_than_its_period_is_late_by_the_difference() {
    // 1000 samples at 1 µs on a Pi 4: two CBs of 556 ns each per sample.
    assert_eq!(late_us(5000, 5000 + 2112, 1000, 1), Some(1112));
    assert_eq!(late_us(5000, 6000, 1000, 1), None, "on time");
    assert_eq!(late_us(5000, 6016, 1000, 1), None, "a GPU stall");
    assert_eq!(
        late_us(u32::MAX - 10, 2101, 1000, 1),
        Some(1112),
        "across the wrap"
    );
    assert_eq!(
        late_us(5000, 4000, 1000, 1),
        None,
        "a tick from the previous lap"
    );
}

#[test]
fn restarts_count_the_periods_in_between() {
    // Last sample at 1000, next at 1005 with a 5 µs period: nothing lost.
    assert_eq!(lost_across_restart(1000, 5, 1005), 0);
    assert_eq!(lost_across_restart(1000, 5, 1050), 9);
    assert_eq!(lost_across_restart(1000, 5, 1000), 0);
}
