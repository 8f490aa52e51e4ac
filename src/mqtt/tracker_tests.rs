use super::*;

fn edge(order: u64) -> Tag {
    Tag::Edge {
        order,
        batch: Batch {
            run: 1,
            seq: order,
            ..Batch::default()
        },
    }
}

#[test]
fn qos1_edge_counted_on_ack_only() {
    let t0 = Instant::now();
    let mut t = Tracker::default();
    t.submitted(Tag::Control, t0);
    t.submitted(edge(0), t0);
    assert_eq!(t.edges_outstanding(), 1);
    assert_eq!(t.on_outgoing_publish(1, t0), None);
    assert_eq!(t.on_outgoing_publish(2, t0), None);
    assert_eq!(t.awaiting(), 0);
    assert_eq!(t.on_ack(2, t0), Some(Delivered::Edge));
    assert_eq!(t.on_ack(1, t0), Some(Delivered::Control));
    assert_eq!(t.on_ack(1, t0), None, "unknown pkid ignored");
    assert_eq!(t.edges_outstanding(), 0);
}

#[test]
fn qos0_edge_counted_when_written() {
    let t0 = Instant::now();
    let mut t = Tracker::default();
    t.submitted(edge(0), t0);
    assert_eq!(t.on_outgoing_publish(0, t0), Some(Delivered::Edge));
    assert_eq!(t.edges_outstanding(), 0);
}

#[test]
fn lost_connection_returns_unacked_edges_in_order() {
    let t0 = Instant::now();
    let mut t = Tracker::default();
    for i in 0..4 {
        t.submitted(edge(i), t0);
    }
    t.submitted(Tag::Offline, t0);
    t.on_outgoing_publish(7, t0);
    t.on_outgoing_publish(3, t0);
    t.on_ack(7, t0); // edge 0 accepted
    let lost: Vec<u64> = t.connection_lost().into_iter().map(|(o, _)| o).collect();
    assert_eq!(lost, vec![1, 2, 3]);
    assert_eq!(t.edges_outstanding(), 0);
    assert_eq!(t.awaiting(), 0);
}

#[test]
fn collision_resolves_on_ack() {
    let t0 = Instant::now();
    let mut t = Tracker::default();
    t.submitted(edge(0), t0);
    t.submitted(edge(1), t0);
    t.on_outgoing_publish(1, t0);
    t.on_await_ack(1);
    assert_eq!(t.on_ack(1, t0), Some(Delivered::Edge));
    assert_eq!(t.on_outgoing_publish(1, t0), None);
    assert_eq!(t.on_ack(1, t0), Some(Delivered::Edge));
    assert_eq!(t.edges_outstanding(), 0);
}

#[test]
fn latency_of_live_batches_only_from_hand_over_to_ack() {
    use std::time::Duration;
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let mut t = Tracker::default();
    t.submitted(Tag::Control, t0);
    t.submitted(edge(0), t0);
    t.submitted(Tag::Offline, t0);
    t.submitted(edge(1), ms(1));
    for pkid in 1..=4 {
        t.on_outgoing_publish(pkid, ms(2));
    }
    for pkid in 1..=4 {
        t.on_ack(pkid, ms(9));
    }
    // Edge 0: 9 ms, edge 1: 8 ms (bucket middles); status publishes are not timed.
    assert_eq!(t.latency.len(), 2);
    assert_eq!(t.latency.quantile_us(0.0), Some(8_063.5));
    assert_eq!(t.latency.quantile_us(1.0), Some(8_959.5));
    // QoS 0: accepted, and timed, when written.
    t.submitted(edge(2), ms(10));
    assert_eq!(t.on_outgoing_publish(0, ms(10)), Some(Delivered::Edge));
    assert_eq!(t.latency.len(), 3);
    assert_eq!(t.latency.quantile_us(0.0), Some(0.0));
}

#[test]
fn replayed_publish_is_not_a_new_one() {
    let t0 = Instant::now();
    let mut t = Tracker::default();
    t.submitted(edge(0), t0);
    t.submitted(edge(1), t0);
    t.on_outgoing_publish(5, t0);
    assert_eq!(t.on_outgoing_publish(5, t0), None);
    assert_eq!(t.awaiting(), 1);
}
