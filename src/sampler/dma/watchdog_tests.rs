use super::*;

#[test]
fn moving_engines_never_stall_and_a_stuck_one_does_after_the_limit() {
    let mut w = Watchdog::new(5_000, 0);
    assert_eq!(w.limit_us(), 20_000, "four 5 ms blocks");
    // CONBLK_AD moves, or the tick word (a whole lap back to the same CB) does.
    for (i, t) in (0..100u64).map(|i| (i, i * 5_000)) {
        assert_eq!(w.observe(0xC000_0000 + 32 * (i as u32 % 7), 0, t), None);
    }
    let mut w = Watchdog::new(5_000, 0);
    for i in 0..100u32 {
        assert_eq!(w.observe(0xC000_0040, i, u64::from(i) * 50_000), None);
    }
    // Stuck on one CB with the same tick.
    let mut w = Watchdog::new(5_000, 0);
    assert_eq!(w.observe(0xC000_0040, 7, 1_000), None);
    assert_eq!(w.observe(0xC000_0040, 7, 20_999), None);
    assert_eq!(w.observe(0xC000_0040, 7, 21_000), Some(20_000));
    w.rearm(30_000);
    assert_eq!(w.observe(0xC000_0040, 7, 30_000), None, "rearmed");
}

#[test]
fn short_blocks_get_the_minimum_limit() {
    assert_eq!(Watchdog::new(100, 0).limit_us(), MIN_STALL_US);
}
