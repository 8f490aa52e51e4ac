use super::*;

#[test]
fn qos_0_owes_nothing_and_an_ack_belongs_to_its_connection() {
    let mut inbox = Inbox::default();
    inbox.connected();
    assert_eq!(inbox.ack_for(QoS::AtMostOnce, 3), None);
    let ack = inbox
        .ack_for(QoS::AtLeastOnce, 7)
        .expect("QoS 1 is acknowledged");
    inbox.done(ack, true, None);
    let sent = inbox
        .next_ack()
        .expect("acknowledged on its own connection");
    assert_eq!((sent.pkid, sent.qos), (7, QoS::AtLeastOnce));

    // Handled after a reconnect: the packet id now names another message, so nothing is sent
    // (the broker delivers the unacknowledged one again).
    let stale = inbox.ack_for(QoS::AtLeastOnce, 8).unwrap();
    inbox.connected();
    inbox.done(stale, true, None);
    assert!(inbox.next_ack().is_none());

    // Nor while disconnected.
    let ack = inbox.ack_for(QoS::ExactlyOnce, 9).unwrap();
    inbox.done(ack, false, None);
    assert!(inbox.next_ack().is_none());
}

#[test]
fn a_lost_connection_forgets_the_acks_it_can_no_longer_send() {
    let mut inbox = Inbox::default();
    inbox.connected();
    inbox.ack_now(QoS::AtLeastOnce, 1);
    inbox.ack_now(QoS::AtMostOnce, 2);
    inbox.forget();
    assert!(inbox.next_ack().is_none());
}
