//! An MQTT 5 test client: request/response on `config/set` (Response Topic + Correlation Data).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{Client, Event, MqttOptions};

/// What came back on the Response Topic.
pub struct Response {
    /// The payload (the `config/result` JSON).
    pub payload: Vec<u8>,
    /// The Correlation Data it carried.
    pub correlation: Option<Vec<u8>>,
}

/// Subscribes to `reply_to` over MQTT 5, publishes `payload` on `topic` with Response Topic
/// `reply_to` and Correlation Data `correlation`, and returns the first message on `reply_to`
/// (`None` after `timeout`).
pub fn request(
    port: u16,
    topic: &str,
    payload: &[u8],
    reply_to: &str,
    correlation: &[u8],
    timeout: Duration,
) -> Option<Response> {
    let id = format!("test-v5-{}", std::process::id());
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut conn) = Client::new(opts, 10);
    client
        .subscribe(reply_to, QoS::AtLeastOnce)
        .expect("queue subscribe");
    let deadline = Instant::now() + timeout;
    let mut sent = false;
    while Instant::now() < deadline {
        let ev = match conn.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(ev)) => ev,
            Ok(Err(_)) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(_) => continue,
        };
        match ev {
            Event::Incoming(Packet::SubAck(_)) if !sent => {
                let props = PublishProperties {
                    response_topic: Some(reply_to.into()),
                    correlation_data: Some(correlation.to_vec().into()),
                    ..Default::default()
                };
                client
                    .publish_with_properties(
                        topic,
                        QoS::AtLeastOnce,
                        false,
                        payload.to_vec(),
                        props,
                    )
                    .expect("queue request");
                sent = true;
            }
            Event::Incoming(Packet::Publish(p)) if p.topic == reply_to.as_bytes() => {
                let _ = client.disconnect();
                return Some(Response {
                    payload: p.payload.to_vec(),
                    correlation: p
                        .properties
                        .and_then(|x| x.correlation_data)
                        .map(|d| d.to_vec()),
                });
            }
            _ => {}
        }
    }
    None
}
