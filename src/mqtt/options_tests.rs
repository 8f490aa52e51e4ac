use super::*;
use rumqttc::Transport;

#[test]
fn options_carry_will_packet_size_and_credentials() {
    let cfg = MqttConfig {
        username: Some("u".into()),
        password: Some("secret".into()),
        keep_alive_s: 7,
        ..MqttConfig::default()
    };
    let topics = Topics::new("edgetap", "pi-01");
    let o = mqtt_options(&cfg, "pi-01", &topics).unwrap();
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
    let o = mqtt_options(&cfg, "d", &Topics::new("p", "d")).unwrap();
    assert!(matches!(o.transport(), Transport::Tcp));
    assert_eq!(o.broker_address().1, 1883);
    assert!(o.credentials().is_none());
}

#[test]
fn qos_is_validated() {
    assert_eq!(qos_from(2).unwrap(), QoS::ExactlyOnce);
    assert!(matches!(qos_from(3), Err(MqttError::InvalidQos(3))));
}

#[test]
fn tls_is_the_transport_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let cert = rcgen::generate_simple_self_signed(vec!["broker.example".into()]).unwrap();
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    let mut cfg = MqttConfig {
        host: "broker.example".into(),
        ..MqttConfig::default()
    };
    cfg.tls.enabled = true;
    cfg.tls.ca_file = Some(ca);
    let o = mqtt_options(&cfg, "d", &Topics::new("p", "d")).unwrap();
    assert!(matches!(o.transport(), Transport::Tls(_)));
    assert_eq!(o.broker_address(), ("broker.example".to_owned(), 8883));
    // A file that cannot be read is an error naming the key, not a connection that fails later.
    cfg.tls.ca_file = Some(dir.path().join("absent.pem"));
    let e = mqtt_options(&cfg, "d", &Topics::new("p", "d")).unwrap_err();
    assert!(e.to_string().contains("mqtt.tls.ca_file"), "{e}");
}
