use super::*;
use rumqttc::v5::mqttbytes::v5::{PubAck as V5PubAck, PubAckReason, SubAck as V5SubAck};

#[test]
fn a_refusing_puback_is_a_rejection_not_an_ack() {
    let mut ack = V5PubAck::new(7, None);
    ack.reason = PubAckReason::NotAuthorized;
    match map_event(v5::Event::Incoming(Packet::PubAck(ack))) {
        Polled::Rejected { pkid, reason } => {
            assert_eq!((pkid, reason.name()), (7, "not_authorized"));
        }
        other => panic!("{other:?}"),
    }
    let ok = V5PubAck::new(8, None);
    assert!(matches!(
        map_event(v5::Event::Incoming(Packet::PubAck(ok))),
        Polled::Event(Event::Incoming(Incoming::PubAck(PubAck { pkid: 8 })))
    ));
}

#[test]
fn a_refused_subscription_reads_as_a_failure() {
    let ack = V5SubAck {
        pkid: 3,
        return_codes: vec![
            V5Code::Success(v5::mqttbytes::QoS::AtLeastOnce),
            V5Code::NotAuthorized,
        ],
        properties: None,
    };
    match map_event(v5::Event::Incoming(Packet::SubAck(ack))) {
        Polled::Event(Event::Incoming(Incoming::SubAck(a))) => {
            assert_eq!(a.pkid, 3);
            assert_eq!(
                a.return_codes,
                vec![
                    SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce),
                    SubscribeReasonCode::Failure
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refused_login_keeps_its_kind() {
    use v5::mqttbytes::v5::ConnectReturnCode as C;
    let e = map_error(v5::ConnectionError::ConnectionRefused(C::NotAuthorized));
    assert!(matches!(
        e,
        ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized)
    ));
}
