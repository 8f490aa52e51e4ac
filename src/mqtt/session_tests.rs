use super::*;

fn reset() -> rumqttc::ConnectionError {
    rumqttc::ConnectionError::Io(std::io::Error::other("connection reset by peer"))
}

#[test]
fn connections_closed_right_after_connack_are_reported_as_a_takeover() {
    let stats = Stats::default();
    let t0 = Instant::now();
    let mut s = Session::new("b:1883".into(), t0);
    let mut t = t0;
    for _ in 0..TAKEOVER_STREAK * 2 {
        s.connected(&stats, t);
        t += Duration::from_millis(800);
        s.lost(&reset(), Duration::from_secs(1), &stats, t);
        t += Duration::from_secs(1);
    }
    assert_eq!(Stats::get(&stats.takeovers_suspected), 2);
}

#[test]
fn long_lived_connections_or_failed_attempts_are_no_takeover() {
    let stats = Stats::default();
    let t0 = Instant::now();
    let mut s = Session::new("b:1883".into(), t0);
    let mut t = t0;
    for _ in 0..10 {
        s.connected(&stats, t);
        t += SHORT_LIVED;
        s.lost(&reset(), Duration::from_secs(1), &stats, t);
        // Attempts refused before CONNACK are outages, not take-overs.
        s.lost(&reset(), Duration::from_secs(1), &stats, t);
        s.lost(&reset(), Duration::from_secs(1), &stats, t);
    }
    assert_eq!(Stats::get(&stats.takeovers_suspected), 0);
}
