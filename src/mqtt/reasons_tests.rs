use super::*;

#[test]
fn refusing_reason_codes_map_to_their_stats_key() {
    let cases = [
        (PubAckReason::NotAuthorized, "not_authorized"),
        (PubAckReason::QuotaExceeded, "quota_exceeded"),
        (PubAckReason::TopicNameInvalid, "topic_name_invalid"),
        (PubAckReason::PayloadFormatInvalid, "payload_format_invalid"),
        (PubAckReason::UnspecifiedError, "other"),
        (PubAckReason::ImplementationSpecificError, "other"),
        (PubAckReason::PacketIdentifierInUse, "other"),
    ];
    for (code, key) in cases {
        assert_eq!(rejection(code).map(Rejection::name), Some(key), "{code:?}");
    }
}

#[test]
fn accepting_reason_codes_are_no_rejection() {
    assert_eq!(rejection(PubAckReason::Success), None);
    // 0x10: accepted, only nobody listens.
    assert_eq!(rejection(PubAckReason::NoMatchingSubscribers), None);
}

#[test]
fn one_log_line_per_reason_per_period_with_the_quiet_count() {
    let t0 = Instant::now();
    let mut log = RejectLog::default();
    let denied = rejection(PubAckReason::NotAuthorized).unwrap();
    let quota = rejection(PubAckReason::QuotaExceeded).unwrap();
    assert_eq!(log.refused(denied, t0), Some(0));
    for i in 1..=99 {
        assert_eq!(log.refused(denied, t0 + Duration::from_millis(i)), None);
    }
    // Another reason has its own budget.
    assert_eq!(log.refused(quota, t0), Some(0));
    assert_eq!(log.refused(denied, t0 + LOG_EVERY), Some(99));
    assert_eq!(log.refused(denied, t0 + LOG_EVERY), None);
}

#[test]
fn response_topics_must_be_plain_bounded_publish_topics() {
    assert_eq!(response_topic_problem("ops/replies/42"), None);
    assert_eq!(response_topic_problem(&"a".repeat(512)), None);
    assert!(response_topic_problem("").is_some());
    assert!(response_topic_problem(&"a".repeat(513)).is_some());
    assert!(response_topic_problem("ops/+/replies").is_some());
    assert!(response_topic_problem("ops/#").is_some());
    assert!(response_topic_problem("$SYS/x").is_some());
    assert!(response_topic_problem("ops/\u{0}/x").is_some());
    assert!(response_topic_problem("ops/\n").is_some());
}

#[test]
fn the_publish_size_is_the_one_rumqttc_writes_and_checks() {
    use rumqttc::v5::mqttbytes::v5::{Publish, PublishProperties};
    use rumqttc::v5::mqttbytes::QoS;
    // Across the variable-length boundaries of the remaining length (127/128, 16383/16384 …).
    for payload_len in [
        0, 1, 100, 120, 127, 128, 16_000, 16_380, 16_384, 70_000, 2_097_200,
    ] {
        for correlation in [None, Some(16usize)] {
            let topic = "edgetap/dev/edges";
            let props = correlation.map(|c| PublishProperties {
                correlation_data: Some(vec![7u8; c].into()),
                ..Default::default()
            });
            let mut p = Publish::new(topic, QoS::AtLeastOnce, vec![0u8; payload_len], props);
            p.pkid = 1;
            assert_eq!(
                publish_packet_size(topic.len(), payload_len, true, correlation),
                p.size(),
                "payload {payload_len}, correlation {correlation:?}"
            );
        }
    }
}

#[test]
fn a_publish_over_the_broker_s_limit_counts_as_packet_too_large() {
    assert_eq!(packet_too_large().name(), "packet_too_large");
}
