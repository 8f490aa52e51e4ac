//! Bytes per edge on the wire, per `batch.format`: the demo signal (2,000 edges/s of pulses, a
//! bouncing door, a slow sensor) sampled at 5 µs in 5 ms blocks with the demo's 10 ms batch
//! window, replayed as fast as it goes (batches close on the signal's own time, so they are
//! the batches of a real-time run) and counted at a subscriber of a real mosquitto.

use std::time::Duration;

use crate::rig::{self, Stamped};
use crate::support::Mosquitto;

/// What one format put on the wire.
pub struct WireFigures {
    /// `batch.format`.
    pub format: &'static str,
    /// Batches received.
    pub messages: u64,
    /// Edges in them.
    pub edges: u64,
    /// Payload bytes.
    pub payload: u64,
    /// Bytes of the MQTT PUBLISH packets carrying them (fixed header, topic, packet id, payload).
    pub packets: u64,
}

/// The formats measured.
pub const FORMATS: [&str; 2] = ["json", "columnar"];

/// Seconds of demo signal per format.
const SECONDS: u32 = 20;

/// Measures every format on the same signal.
pub fn measure() -> Vec<WireFigures> {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start();
    let signal = rig::demo_signal(dir.path(), SECONDS);
    FORMATS
        .iter()
        .map(|&format| {
            let device = format!("wire-{format}");
            let topic = format!("edgetap/{device}/edges");
            let sub = Stamped::connect(broker.port(), &topic, true);
            let cfg = rig::DemoConfig {
                device: &device,
                signal: &signal,
                mem: None,
                realtime: false,
                period_us: 5,
                block_samples: Some(1000),
                max_age_ms: 10,
                port: broker.port(),
            }
            .write(dir.path());
            let text = std::fs::read_to_string(&cfg).expect("config");
            let text = text
                .replace("backend = \"emulated\"", "backend = \"replay\"")
                .replace("[sampler.emulated]", "[sampler.replay]")
                .replace("board = \"pi3\"\n", "")
                .replace("loop = true", "loop = false")
                .replace(
                    "[batch]\n",
                    &format!("[batch]\nformat = \"{format}\"\nqueue_batches = 100000\n"),
                );
            std::fs::write(&cfg, text).expect("config");
            let agent = rig::agent(&cfg, dir.path());
            // The agent exits once the broker took every batch of the signal.
            let mut last = (u64::MAX, 0, 0);
            for _ in 0..600 {
                std::thread::sleep(Duration::from_millis(500));
                let now = sub.totals();
                if now == last && now.0 > 0 {
                    break;
                }
                last = now;
            }
            let log = agent.stop();
            let s = sub.seen.lock().expect("subscriber state");
            assert!(s.messages > 0, "{format}: nothing received:\n{log}");
            // PUBLISH at QoS 1: type byte, remaining length, topic length and topic, packet id.
            let rem = |payload: u64| 2 + topic.len() as u64 + 2 + payload;
            let varint = |n: u64| match n {
                0..=127 => 1,
                128..=16_383 => 2,
                16_384..=2_097_151 => 3,
                _ => 4,
            };
            let packets = s.kept.iter().map(|(_, p)| {
                let r = rem(p.len() as u64);
                1 + varint(r) + r
            });
            WireFigures {
                format,
                messages: s.messages,
                edges: s.edges,
                payload: s.bytes,
                packets: packets.sum(),
            }
        })
        .collect()
}
