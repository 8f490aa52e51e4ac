use super::*;

#[tokio::test]
async fn invalid_qos_fails_fast() {
    let cfg = MqttConfig {
        qos: 9,
        ..MqttConfig::default()
    };
    let r = run(
        cfg,
        "d".into(),
        Arc::new(DropOldestQueue::new(1)),
        Arc::new(Stats::default()),
        Shutdown::new(),
    )
    .await;
    assert!(matches!(r, Err(MqttError::InvalidQos(9))));
}
