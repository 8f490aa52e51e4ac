use super::*;

#[test]
fn options_carry_will_packet_size_and_credentials() {
    let cfg = MqttConfig {
        username: Some("u".into()),
        password: Some("secret".into()),
        keep_alive_s: 7,
        ..MqttConfig::default()
    };
    let topics = Topics::new("edgetap", "pi-01");
    let o = mqtt_options(&cfg, "pi-01", &topics);
    assert_eq!(o.client_id(), "edgetap-pi-01");
    assert_eq!(o.keep_alive(), Duration::from_secs(7));
    assert_eq!(o.max_packet_size(), MAX_INCOMING_PACKET_SIZE);
    assert!(!o.clean_session(), "persistent session");
    assert_eq!(o.inflight(), INFLIGHT);
    let will = o.last_will().expect("will set");
    assert_eq!(will.topic, "edgetap/pi-01/status");
    assert_eq!(&will.message[..], b"offline");
    assert!(will.retain);
    assert_eq!(will.qos, QoS::AtLeastOnce);
    let login = o.credentials().expect("credentials");
    assert_eq!(login.username, "u");
    assert_eq!(login.password, "secret");
}

#[test]
fn no_credentials_without_username() {
    let cfg = MqttConfig::default();
    let o = mqtt_options(&cfg, "d", &Topics::new("p", "d"));
    assert!(o.credentials().is_none());
}

#[test]
fn qos_is_validated() {
    assert_eq!(qos_from(2).unwrap(), QoS::ExactlyOnce);
    assert!(matches!(qos_from(3), Err(MqttError::InvalidQos(3))));
}
