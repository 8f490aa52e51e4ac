//! How edgetap connects: rumqttc options (client id, last will, packet size, in-flight window,
//! credentials, TLS) derived from [`MqttConfig`].

use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport};

use super::error::MqttError;
use super::tls::client_config;
use crate::config::MqttConfig;
use crate::wire::status::OFFLINE;
use crate::wire::topics::Topics;

/// Capacity of rumqttc's request channel (requests not yet written to the socket).
pub const REQUEST_CAPACITY: usize = 32;
/// Largest MQTT packet sent or accepted: a 512-edge batch is ~25 KiB, rumqttc's default 10 KiB.
pub const MAX_PACKET_SIZE: usize = 1 << 20;
/// Largest MQTT packet accepted from the broker: far above the largest accepted config patch
/// ([`crate::config::MAX_PAYLOAD`]), so an oversized patch is read and refused with a result
/// instead of breaking the connection (only a packet beyond this one drops it).
pub const MAX_INCOMING_PACKET_SIZE: usize = 4 << 20;
/// rumqttc's QoS 1/2 in-flight window: the edge window plus room for status and gpio publishes.
pub const INFLIGHT: u16 = 32;

/// The rumqttc options edgetap connects with; fails only on the files of `[mqtt.tls]`.
pub fn mqtt_options(
    cfg: &MqttConfig,
    device_id: &str,
    topics: &Topics,
) -> Result<MqttOptions, MqttError> {
    let mut o = MqttOptions::new(format!("edgetap-{device_id}"), cfg.host.clone(), cfg.port());
    // MQTT carries keep-alive as u16 seconds; 0 disables it.
    o.set_keep_alive(Duration::from_secs(
        cfg.keep_alive_s.min(u64::from(u16::MAX)),
    ));
    // A persistent session: the broker keeps our config/set subscriptions and queues the
    // patches sent while we are away (drops, restarts). Batches do not rely on it: the publisher
    // resends or spools every unacknowledged one. Stale subscriptions: see `subscriptions`.
    o.set_clean_session(false);
    // A received patch is acknowledged once the controller handled it: one not yet processed
    // stays with the broker, which delivers it again after a drop.
    o.set_manual_acks(true);
    o.set_max_packet_size(MAX_INCOMING_PACKET_SIZE, MAX_PACKET_SIZE);
    o.set_inflight(INFLIGHT);
    o.set_request_channel_capacity(REQUEST_CAPACITY);
    o.set_last_will(LastWill::new(
        topics.status(),
        OFFLINE,
        QoS::AtLeastOnce,
        true,
    ));
    if let Some(user) = &cfg.username {
        o.set_credentials(user.clone(), cfg.password.clone().unwrap_or_default());
    }
    if cfg.tls.enabled {
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            client_config(&cfg.tls)?,
        )));
    }
    Ok(o)
}

/// The rumqttc QoS for a configured `mqtt.qos`.
pub fn qos_from(q: u8) -> Result<QoS, MqttError> {
    match q {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        other => Err(MqttError::InvalidQos(other)),
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
