//! How edgetap connects: rumqttc options (client id, last will, packet size, in-flight window,
//! credentials, TLS) derived from [`MqttConfig`].

use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport};

use super::client::v5_qos;
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

/// Connection options of either version.
#[derive(Debug)]
pub(crate) enum Options {
    /// MQTT 3.1.1.
    V4(Box<MqttOptions>),
    /// MQTT 5 (boxed like the 3.1.1 ones, so the enum stays small).
    V5(Box<rumqttc::v5::MqttOptions>),
}

/// A packet limit as MQTT 5's u32 Maximum Packet Size.
pub(crate) fn incoming_limit(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

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

/// The options of `cfg.protocol`'s client: [`mqtt_options`] for 3.1.1; for MQTT 5 the same
/// settings plus Maximum Packet Size (the agent's inbound limit, so the broker never sends
/// what the agent cannot read) and the Session Expiry Interval (without one, an MQTT 5
/// broker ends a session at the disconnect, and patches sent while away are lost).
pub(crate) fn options_for(
    cfg: &MqttConfig,
    device_id: &str,
    topics: &Topics,
) -> Result<Options, MqttError> {
    let o = mqtt_options(cfg, device_id, topics)?;
    if !cfg.is_v5() {
        return Ok(Options::V4(Box::new(o)));
    }
    use rumqttc::v5;
    let (host, port) = o.broker_address();
    let mut v = v5::MqttOptions::new(o.client_id(), host, port);
    v.set_keep_alive(o.keep_alive())
        .set_clean_start(false)
        .set_session_expiry_interval(Some(cfg.session_expiry_s))
        .set_manual_acks(true)
        .set_max_packet_size(Some(incoming_limit(MAX_INCOMING_PACKET_SIZE)))
        .set_outgoing_inflight_upper_limit(INFLIGHT)
        .set_request_channel_capacity(REQUEST_CAPACITY)
        .set_transport(o.transport())
        .set_last_will(v5::mqttbytes::v5::LastWill::new(
            topics.status(),
            OFFLINE,
            v5_qos(QoS::AtLeastOnce),
            true,
            None,
        ));
    if let Some(user) = &cfg.username {
        v.set_credentials(user.clone(), cfg.password.clone().unwrap_or_default());
    }
    Ok(Options::V5(Box::new(v)))
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
