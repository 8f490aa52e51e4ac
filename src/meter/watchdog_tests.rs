use super::*;

fn edge(t_us: u64, level: u8) -> Edge {
    Edge {
        pin: 22,
        level,
        t_us,
        after_gap: false,
    }
}

#[test]
fn fires_once_per_silence_and_not_while_edges_flow() {
    let mut w = Watchdog::new(22, 100);
    let mut events = Vec::new();
    // Edges every 50 ms for a second: never silent for 100 ms.
    for i in 0..20u64 {
        let t = 1_000_000 + i * 50_000;
        w.push(&edge(t, (i % 2) as u8));
        events.extend(w.poll(t + 10_000));
    }
    assert!(events.is_empty(), "{events:?}");
    // Silence from 1.95 s: one event at the first poll 100 ms later, none after.
    for t in (1_960_000..3_000_000).step_by(10_000) {
        events.extend(w.poll(t));
    }
    assert_eq!(
        events,
        vec![WatchdogEvent {
            pin: 22,
            t_us: 2_050_000,
            silent_ms: 100
        }]
    );
    // An edge ends the silence; the next silence fires again.
    w.push(&edge(3_000_000, 0));
    assert_eq!(w.poll(3_050_000), None);
    assert_eq!(w.poll(3_100_000).map(|e| e.t_us), Some(3_100_000));
    assert_eq!(w.poll(3_500_000), None);
}

#[test]
fn silence_counts_from_the_start_when_no_edge_came() {
    let mut w = Watchdog::new(3, 1000);
    assert_eq!(w.poll(5_000_000), None);
    assert_eq!(w.poll(5_999_999), None);
    assert_eq!(w.poll(6_000_000).map(|e| e.silent_ms), Some(1000));
}

#[test]
fn zero_never_fires() {
    let mut w = Watchdog::new(3, 0);
    assert_eq!(w.poll(0), None);
    assert_eq!(w.poll(u64::MAX / 2), None);
}
