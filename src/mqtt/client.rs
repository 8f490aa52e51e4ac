//! The one client handle the shell drives, over rumqttc's MQTT 3.1.1 and MQTT 5 clients: the
//! per-version differences in requests stay here (and in [`super::adapter`] for events), so the
//! shell and the state machines are the same for both versions.

use rumqttc::v5;
use rumqttc::{AsyncClient, QoS, SubscribeFilter};

/// The client's request channel did not take a request (full, or the event loop is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the MQTT client's request channel is full or closed")]
pub(crate) struct Refused;

type ClientError = Refused;

/// A client of either protocol version.
#[derive(Debug, Clone)]
pub(crate) enum Client {
    /// MQTT 3.1.1.
    V4(AsyncClient),
    /// MQTT 5.
    V5(v5::AsyncClient),
}

/// Either version's client error: both only say the request channel refused a request.
fn refused<E>(_: E) -> Refused {
    Refused
}

impl Client {
    /// Queues a publish without waiting.
    pub(crate) fn try_publish(
        &self,
        topic: String,
        qos: QoS,
        retain: bool,
        payload: Vec<u8>,
        correlation: Option<Vec<u8>>,
    ) -> Result<(), ClientError> {
        match self {
            Client::V4(c) => c.try_publish(topic, qos, retain, payload).map_err(refused),
            Client::V5(c) => match correlation {
                Some(data) => {
                    let props = v5::mqttbytes::v5::PublishProperties {
                        correlation_data: Some(data.into()),
                        ..Default::default()
                    };
                    c.try_publish_with_properties(topic, v5_qos(qos), retain, payload, props)
                }
                None => c.try_publish(topic, v5_qos(qos), retain, payload),
            }
            .map_err(refused),
        }
    }

    /// Acknowledges a received message (manual acks).
    pub(crate) fn try_ack(&self, p: &rumqttc::Publish) -> Result<(), ClientError> {
        match self {
            Client::V4(c) => c.try_ack(p).map_err(refused),
            Client::V5(c) => {
                let mut m = v5::mqttbytes::v5::Publish::new("", v5_qos(p.qos), Vec::new(), None);
                m.pkid = p.pkid;
                c.try_ack(&m).map_err(refused)
            }
        }
    }

    /// Subscribes to `filters` in one SUBSCRIBE.
    pub(crate) fn try_subscribe_many(
        &self,
        filters: Vec<(String, QoS)>,
    ) -> Result<(), ClientError> {
        match self {
            Client::V4(c) => c
                .try_subscribe_many(filters.into_iter().map(|(t, q)| SubscribeFilter::new(t, q)))
                .map_err(refused),
            Client::V5(c) => c
                .try_subscribe_many(
                    filters
                        .into_iter()
                        .map(|(t, q)| v5::mqttbytes::v5::Filter::new(t, v5_qos(q))),
                )
                .map_err(refused),
        }
    }

    /// Unsubscribes from `topic`.
    pub(crate) fn try_unsubscribe(&self, topic: String) -> Result<(), ClientError> {
        match self {
            Client::V4(c) => c.try_unsubscribe(topic).map_err(refused),
            Client::V5(c) => c.try_unsubscribe(topic).map_err(refused),
        }
    }

    /// Queues a DISCONNECT.
    pub(crate) fn try_disconnect(&self) -> Result<(), ClientError> {
        match self {
            Client::V4(c) => c.try_disconnect().map_err(refused),
            Client::V5(c) => c.try_disconnect().map_err(refused),
        }
    }
}

/// The v5 QoS for a 3.1.1 one.
pub(crate) fn v5_qos(q: QoS) -> v5::mqttbytes::QoS {
    match q {
        QoS::AtMostOnce => v5::mqttbytes::QoS::AtMostOnce,
        QoS::AtLeastOnce => v5::mqttbytes::QoS::AtLeastOnce,
        QoS::ExactlyOnce => v5::mqttbytes::QoS::ExactlyOnce,
    }
}

/// The 3.1.1 QoS for a v5 one.
pub(crate) fn v4_qos(q: v5::mqttbytes::QoS) -> QoS {
    match q {
        v5::mqttbytes::QoS::AtMostOnce => QoS::AtMostOnce,
        v5::mqttbytes::QoS::AtLeastOnce => QoS::AtLeastOnce,
        v5::mqttbytes::QoS::ExactlyOnce => QoS::ExactlyOnce,
    }
}
