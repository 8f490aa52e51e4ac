use super::*;

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

#[test]
fn stays_within_bounds() {
    let mut b = Backoff::new(100, 5_000);
    let mut x: u64 = 0x1234_5678;
    for _ in 0..10_000 {
        // xorshift: deterministic but well spread.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let d = ms(b.next_delay(x));
        assert!((100..=5_000).contains(&d), "{d}");
    }
}

#[test]
fn grows_exponentially_with_max_randomness() {
    let mut b = Backoff::new(100, 10_000);
    let seq: Vec<u64> = (0..6).map(|_| ms(b.next_delay(u64::MAX))).collect();
    assert_eq!(seq, vec![300, 900, 2_700, 8_100, 10_000, 10_000]);
}

#[test]
fn zero_random_gives_minimum() {
    let mut b = Backoff::new(250, 30_000);
    for _ in 0..5 {
        assert_eq!(ms(b.next_delay(0)), 250);
    }
}

#[test]
fn reset_returns_to_short_delays() {
    let mut b = Backoff::new(100, 10_000);
    for _ in 0..10 {
        b.next_delay(u64::MAX);
    }
    b.reset();
    assert!(ms(b.next_delay(u64::MAX)) <= 300);
}

#[test]
fn degenerate_config_is_clamped() {
    let mut b = Backoff::new(0, 0);
    assert_eq!(b.next_delay(12345), FLOOR);
    let mut b = Backoff::new(500, 100);
    assert_eq!(ms(b.next_delay(7)), 500);
}

#[test]
fn only_a_connection_that_stayed_up_resets_the_delays() {
    let mut b = Backoff::new(100, 10_000);
    assert_eq!(ms(b.next_delay(u64::MAX)), 300);
    // Accepted, then closed at once (a take-over, a refused packet): the delays keep growing.
    b.connection_ended(Duration::from_millis(50));
    assert_eq!(ms(b.next_delay(u64::MAX)), 900);
    b.connection_ended(STABLE_AFTER - Duration::from_millis(1));
    assert_eq!(ms(b.next_delay(u64::MAX)), 2_700);
    b.connection_ended(STABLE_AFTER);
    assert_eq!(ms(b.next_delay(u64::MAX)), 300);
}
