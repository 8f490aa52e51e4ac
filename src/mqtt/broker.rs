//! An in-process MQTT broker (rumqttd) for demos and tests: `mqtt.embedded_broker = true` starts
//! it on `host:port` so edgetap runs without an external broker.
//!
//! Verified by tests/mqtt_publisher.rs against rumqttd 0.20: retained messages are stored and
//! delivered to later subscribers, and the last will of a client whose connection drops without
//! DISCONNECT is published. Limitations: rumqttd has no shutdown API, so the broker threads live
//! until the process exits; retained messages and sessions are kept in memory only.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use tracing::{error, info};

use super::error::MqttError;

/// Largest payload the embedded broker accepts: above the publisher's 1 MiB packet limit.
pub const BROKER_MAX_PAYLOAD: usize = 2 << 20;
/// How long `start` waits for the listener to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// A running embedded broker (v4 / MQTT 3.1.1, plain TCP, anonymous).
#[derive(Debug)]
pub struct EmbeddedBroker {
    addr: SocketAddr,
    _thread: JoinHandle<()>,
}

impl EmbeddedBroker {
    /// Starts a broker listening on `addr` (port 0: a free port on that address) and waits until
    /// it accepts TCP connections.
    pub fn start(addr: SocketAddr) -> Result<EmbeddedBroker, MqttError> {
        // rumqttd only logs a failed bind from its server thread; probing first turns the common
        // case (port in use) into a clear error, and resolves port 0 to a concrete port.
        let addr = {
            let probe =
                TcpListener::bind(addr).map_err(|source| MqttError::BrokerBind { addr, source })?;
            probe
                .local_addr()
                .map_err(|source| MqttError::BrokerBind { addr, source })?
        };
        let config = broker_config(addr);
        let thread = std::thread::Builder::new()
            .name("edgetap-broker".into())
            .spawn(move || {
                let mut broker = Broker::new(config);
                // `start` blocks for as long as the listener runs.
                if let Err(e) = broker.start() {
                    error!(error = %e, "embedded broker stopped");
                }
            })
            .map_err(|e| MqttError::BrokerStart {
                addr,
                reason: format!("cannot spawn broker thread: {e}"),
            })?;
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if thread.is_finished() {
                return Err(MqttError::BrokerStart {
                    addr,
                    reason: "listener exited (port taken meanwhile?)".into(),
                });
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(MqttError::BrokerStart {
                    addr,
                    reason: format!("not accepting connections after {START_TIMEOUT:?}"),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        info!(%addr, "embedded MQTT broker listening");
        Ok(EmbeddedBroker {
            addr,
            _thread: thread,
        })
    }

    /// The address the broker listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

fn broker_config(addr: SocketAddr) -> Config {
    let server = ServerSettings {
        name: "edgetap-v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: BROKER_MAX_PAYLOAD,
            max_inflight_count: 100,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 1_000,
            max_outgoing_packet_count: 200,
            // A segment must hold the largest payload; 4 × 8 MiB bounds memory per topic.
            max_segment_size: 8 << 20,
            max_segment_count: 4,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..Config::default()
    }
}

#[cfg(test)]
#[path = "broker_tests.rs"]
mod tests;
