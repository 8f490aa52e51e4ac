use super::*;

#[test]
fn starts_on_a_free_port_and_accepts_connections() {
    let b = EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).expect("starts");
    assert_ne!(b.addr().port(), 0);
    TcpStream::connect(b.addr()).expect("accepts");
}

#[test]
fn port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = EmbeddedBroker::start(addr).unwrap_err();
    assert!(matches!(err, MqttError::BrokerBind { .. }), "{err}");
    assert!(err.to_string().contains(&addr.to_string()));
}
