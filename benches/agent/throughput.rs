//! Figure 3: edges per second delivered to a subscriber through a real mosquitto at QoS 1 in
//! batches of 512, per `batch.format`, beside what mosquitto itself carries for the same
//! payloads from a bare rumqttc publisher, measured in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::rig::{self, Stamped};
use crate::support::Mosquitto;

/// Edges per batch, as the issue asks.
pub const BATCH: usize = 512;

/// One measured rate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    /// Edges per second the subscriber received.
    pub edges_per_s: f64,
    /// Messages per second it received.
    pub messages_per_s: f64,
    /// Payload MB/s.
    pub mb_per_s: f64,
}

impl Rate {
    fn over(edges: u64, messages: u64, bytes: u64, wall: Duration) -> Rate {
        let s = wall.as_secs_f64();
        Rate {
            edges_per_s: edges as f64 / s,
            messages_per_s: messages as f64 / s,
            mb_per_s: bytes as f64 / s / 1e6,
        }
    }
}

/// What the throughput run measured for one `batch.format`.
pub struct FormatFigures {
    /// `batch.format`.
    pub format: &'static str,
    /// `batch.max_edges`: edges per batch.
    pub batch: usize,
    /// Bare rumqttc publisher of a payload edgetap writes in this format, QoS 1, as fast as
    /// mosquitto takes it.
    pub raw: Rate,
    /// edgetap fed as fast as the replay goes (publisher saturated; the queue drops the rest).
    pub saturated: Rate,
}

/// What the throughput run measured.
pub struct ThroughputFigures {
    /// Per format, `json` first (the anchor of the ratios).
    pub formats: Vec<FormatFigures>,
    /// edgetap at an offered `offered` edges/s (replayed in real time), object format.
    pub paced: Rate,
    /// Offered rate of the paced run.
    pub offered: f64,
    /// Batches edgetap dropped in the paced run (queue full), from its log.
    pub paced_dropped: Option<u64>,
}

/// The formats and batch sizes measured, the anchor first. At 512 edges both formats are
/// bound by the broker's message rate; 4096 columnar edges take fewer bytes than 512 objects.
pub const FORMATS: [(&str, usize); 3] = [("json", BATCH), ("columnar", BATCH), ("columnar", 4096)];

/// Pins driven by the signal; each toggles every `EVERY_US` µs.
const PINS: [u8; 16] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19];
/// 16 pins toggling every 16 µs: 1,000,000 edges/s.
const EVERY_US: u64 = 16;

fn config(
    dir: &Path,
    name: &str,
    signal: &Path,
    port: u16,
    realtime: bool,
    (format, batch): (&str, usize),
) -> std::path::PathBuf {
    let mut inputs = String::new();
    for p in PINS {
        inputs += &format!("[[inputs]]\npin = {p}\nmax_edges_per_s = 0\n");
    }
    let text = format!(
        r#"device_id = "{name}"
state_dir = "{state}"
[sampler]
backend = "replay"
period_us = 1
block_samples = 1000
[sampler.replay]
signal = "{signal}"
realtime = {realtime}
loop = true
{inputs}
[batch]
format = "{format}"
max_edges = {batch}
max_age_ms = 50
queue_batches = 1024
[homeassistant]
enabled = false
[spool]
enabled = false
[mqtt]
port = {port}
qos = 1
"#,
        state = dir.join(format!("{name}-state")).display(),
        signal = signal.display(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("config");
    path
}

/// Counts what `sub` receives over `window` after the first message.
fn rate(sub: &Stamped, window: Duration) -> Rate {
    assert!(
        sub.wait(|s| s.messages > 0, Duration::from_secs(30)),
        "nothing received"
    );
    std::thread::sleep(Duration::from_millis(500));
    let (m0, e0, b0) = sub.totals();
    let t0 = Instant::now();
    std::thread::sleep(window);
    let (m1, e1, b1) = sub.totals();
    Rate::over(e1 - e0, m1 - m0, b1 - b0, t0.elapsed())
}

/// A batch payload of `BATCH` edges as edgetap encodes it in `format`: the square signal's
/// edges (pin k toggling every `EVERY_US` µs, shifted by k µs).
fn sample_payload(format: &str, edges: usize) -> Vec<u8> {
    use edgetap::edges::batch::{Batch, BatchFormat};
    use edgetap::edges::Edge;
    let format = match format {
        "columnar" => BatchFormat::Columnar,
        _ => BatchFormat::Json,
    };
    let per_round = PINS.len() as u64;
    let batch = Batch {
        format,
        run: 0x1234_5678_9abc_def0,
        seq: 123_456,
        edges: (0..edges as u64)
            .map(|i| Edge {
                pin: PINS[(i % per_round) as usize],
                level: ((i / per_round + 1) % 2) as u8,
                t_us: 1_764_040_000_000_000 + (i / per_round + 1) * EVERY_US + i % per_round,
                after_gap: false,
            })
            .collect(),
        ..Batch::default()
    };
    let mut buf = Vec::new();
    edgetap::wire::encode_batch(&mut buf, "bench-raw", &batch);
    buf
}

/// A bare rumqttc publisher: `payload` at QoS 1 as fast as the broker acknowledges, `window`.
fn raw_publisher(port: u16, topic: &str, payload: Vec<u8>, window: Duration) {
    let topic = topic.to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut opts = rumqttc::MqttOptions::new("bench-raw", "127.0.0.1", port);
        opts.set_max_packet_size(16 << 20, 16 << 20);
        opts.set_inflight(edgetap::mqtt::options::INFLIGHT);
        let (client, mut el) = rumqttc::AsyncClient::new(opts, 64);
        let end = Instant::now() + window;
        let publisher = tokio::spawn(async move {
            while Instant::now() < end {
                let p = payload.clone();
                if client
                    .publish(topic.as_str(), rumqttc::QoS::AtLeastOnce, false, p)
                    .await
                    .is_err()
                {
                    break;
                }
            }
            let _ = client.disconnect().await;
        });
        while Instant::now() < end + Duration::from_secs(1) {
            match tokio::time::timeout(Duration::from_millis(200), el.poll()).await {
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(_)) => break,
            }
        }
        let _ = publisher.await;
    });
}

/// Runs the measurements over `window` each: per format a bare publisher and a saturated
/// edgetap, and edgetap at a real-time rate in the object format.
pub fn measure(window: Duration) -> ThroughputFigures {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start();
    let signal = rig::square_signal(dir.path(), &PINS, EVERY_US, 2);
    let mut formats = Vec::new();
    for (format, batch) in FORMATS {
        let raw = {
            let topic = format!("bench/raw-{format}-{batch}/edges");
            let sub = Stamped::connect(broker.port(), &topic, false);
            let port = broker.port();
            let payload = sample_payload(format, batch);
            let publisher = std::thread::spawn(move || {
                raw_publisher(port, &topic, payload, window + Duration::from_secs(2))
            });
            let r = rate(&sub, window);
            let _ = publisher.join();
            r
        };
        let saturated = {
            let name = format!("bench-sat-{format}-{batch}");
            let sub = Stamped::connect(broker.port(), &format!("edgetap/{name}/edges"), false);
            let cfg = config(
                dir.path(),
                &name,
                &signal,
                broker.port(),
                false,
                (format, batch),
            );
            let agent = rig::agent(&cfg, dir.path());
            let r = rate(&sub, window);
            drop(agent);
            r
        };
        formats.push(FormatFigures {
            format,
            batch,
            raw,
            saturated,
        });
    }
    let offered = PINS.len() as f64 * 1e6 / EVERY_US as f64;
    let (paced, paced_dropped) = {
        let sub = Stamped::connect(broker.port(), "edgetap/bench-paced/edges", false);
        let cfg = config(
            dir.path(),
            "bench-paced",
            &signal,
            broker.port(),
            true,
            ("json", BATCH),
        );
        let agent = rig::agent(&cfg, dir.path());
        let r = rate(&sub, window);
        let log = agent.stop();
        (r, rig::logged(&log, "batches_dropped"))
    };
    ThroughputFigures {
        formats,
        paced,
        offered,
        paced_dropped,
    }
}
