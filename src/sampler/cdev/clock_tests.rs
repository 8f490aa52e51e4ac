use super::*;

#[test]
fn monotonic_stamps_are_shifted_by_the_measured_offset() {
    let mut t = EventTimes::new(EventClock::Monotonic);
    assert!(t.due(0), "no estimate yet");
    // Booted 1,000 s ago: monotonic 1,000 s while UTC reads 1.7e15 µs (±2 µs around the read).
    t.estimate(
        1_700_000_000_000_000,
        1_000_000_000_000,
        1_700_000_000_000_004,
    );
    assert_eq!(t.utc_us(1_000_000_000_000), 1_700_000_000_000_002);
    // An edge 1.5 ms later, to the ns: truncated to whole µs.
    assert_eq!(t.utc_us(1_000_001_500_999), 1_700_000_000_001_502);
}

#[test]
fn the_offset_is_measured_again_every_ten_seconds() {
    let mut t = EventTimes::new(EventClock::Hte);
    t.estimate(5_000_000, 1_000_000_000, 5_000_000);
    assert!(!t.due(1_000_000_000 + REESTIMATE_NS - 1));
    assert!(t.due(1_000_000_000 + REESTIMATE_NS));
    // The wall clock was slewed by 3 µs meanwhile: later events follow it.
    let mono = 1_000_000_000 + REESTIMATE_NS;
    t.estimate(15_000_003, mono, 15_000_003);
    assert!(!t.due(mono));
    assert_eq!(t.utc_us(mono + 1_000), 15_000_004);
}

#[test]
fn realtime_stamps_are_utc_already() {
    let t = EventTimes::new(EventClock::Realtime);
    assert!(!t.due(u64::MAX), "nothing to measure");
    assert_eq!(t.utc_us(1_700_000_000_123_456_789), 1_700_000_000_123_456);
}
