//! The MQTT publisher against a real mosquitto (one per test) and against the embedded rumqttd.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use edgetap::config::MqttConfig;
use edgetap::edges::batch::Batch;
use edgetap::edges::{Edge, Gap, PinLevel, RateLimited};
use edgetap::mqtt::{EmbeddedBroker, MqttError};
use edgetap::queue::{DropOldestQueue, Outgoing};
use edgetap::shutdown::Shutdown;
use edgetap::stats::Stats;
use edgetap::wire::{decode_batch, BatchPayload};
use support::{free_port, Mosquitto, Msg, Subscriber, TcpProxy};
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(10);
const RUN: u64 = 42;

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "edgetap=debug".into()),
        )
        .try_init();
}

fn cfg(port: u16) -> MqttConfig {
    MqttConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        keep_alive_s: 5,
        reconnect_min_ms: 100,
        reconnect_max_ms: 1_000,
        ..MqttConfig::default()
    }
}

/// Batch `seq`: three edges on pins 17/27 and, for every 5th, a gap; pin 17 ends at `seq % 2`.
fn batch(seq: u64) -> Batch {
    let t = 1_764_040_000_000_000 + seq * 1_000;
    let l17 = (seq % 2) as u8;
    Batch {
        run: RUN,
        seq,
        edges: vec![
            Edge {
                pin: 17,
                level: 1 - l17,
                t_us: t,
                after_gap: false,
            },
            Edge {
                pin: 27,
                level: 1,
                t_us: t + 1,
                after_gap: false,
            },
            Edge {
                pin: 17,
                level: l17,
                t_us: t + 2,
                after_gap: false,
            },
        ],
        gaps: if seq % 5 == 0 {
            vec![Gap {
                from_us: t - 10,
                to_us: t - 5,
                samples: 1,
                edges: 0,
            }]
        } else {
            vec![]
        },
        // Now and then a rate-limit marker, which must travel as is.
        rate_limited: if seq % 7 == 3 {
            vec![RateLimited {
                pin: 27,
                edges: seq,
            }]
        } else {
            vec![]
        },
        levels: vec![
            PinLevel {
                pin: 17,
                level: l17,
            },
            PinLevel { pin: 27, level: 1 },
        ],
        format: Default::default(),
    }
}

fn expected(device: &str, seq: u64) -> BatchPayload {
    let b = batch(seq);
    BatchPayload {
        v: 1,
        device: device.into(),
        run: b.run,
        seq: b.seq,
        edges: b.edges,
        gaps: b.gaps,
        rate_limited: b.rate_limited,
    }
}

struct Publisher {
    queue: Arc<DropOldestQueue<Outgoing>>,
    stats: Arc<Stats>,
    shutdown: Shutdown,
    handle: JoinHandle<Result<(), MqttError>>,
}

impl Publisher {
    fn spawn(cfg: MqttConfig, device: &str, capacity: usize) -> Publisher {
        Self::spawn_with(cfg, device, capacity, edgetap::mqtt::DRAIN_TIMEOUT)
    }

    fn spawn_with(cfg: MqttConfig, device: &str, capacity: usize, drain: Duration) -> Publisher {
        let queue = Arc::new(DropOldestQueue::new(capacity));
        let stats = Arc::new(Stats::default());
        let shutdown = Shutdown::new();
        let handle = tokio::spawn(
            edgetap::mqtt::Publishing::new(
                cfg,
                device.into(),
                queue.clone(),
                stats.clone(),
                shutdown.clone(),
            )
            .drain_timeout(drain)
            .run(),
        );
        Publisher {
            queue,
            stats,
            shutdown,
            handle,
        }
    }

    /// Pushes like the sampling side does: never waits, counts what the queue dropped.
    fn push(&self, o: Outgoing) {
        if self.queue.push(o).is_some() {
            Stats::add(&self.stats.batches_dropped, 1);
        }
    }

    fn push_batches(&self, seqs: std::ops::Range<u64>) {
        for s in seqs {
            self.push(Outgoing::Batch(batch(s)));
        }
    }

    fn get(&self, f: impl Fn(&Stats) -> &std::sync::atomic::AtomicU64) -> u64 {
        Stats::get(f(&self.stats))
    }

    /// Waits (bounded) until `cond` holds on the stats.
    async fn wait_stats(&self, what: &str, cond: impl Fn(&Stats) -> bool) {
        let start = Instant::now();
        while !cond(&self.stats) {
            assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Closes the queue (end of input) and waits for `run` to return.
    async fn finish(self) -> Result<(), MqttError> {
        self.queue.close();
        self.shutdown.trigger();
        tokio::time::timeout(WAIT, self.handle)
            .await
            .expect("run returns after the queue is closed")
            .expect("run does not panic")
    }
}

fn edge_batches(msgs: &[Msg]) -> Vec<BatchPayload> {
    msgs.iter()
        .filter(|m| m.topic.ends_with("/edges"))
        .map(|m| decode_batch(&m.payload).expect("valid batch JSON"))
        .collect()
}

fn collect_batches(sub: &Subscriber, n: usize) -> Vec<BatchPayload> {
    let msgs = sub.collect_until(|m| edge_batches(m).len() >= n, WAIT);
    edge_batches(&msgs)
}

fn is(topic: &str, payload: &str) -> impl Fn(&Msg) -> bool {
    let (topic, payload) = (topic.to_string(), payload.to_string());
    move |m: &Msg| m.topic == topic && m.payload == payload.as_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_arrive_in_order_with_retained_state_and_offline_on_shutdown() {
    init_tracing();
    let broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let p = Publisher::spawn(cfg(broker.port()), "pi-01", 64);
    p.push(Outgoing::Levels(vec![
        PinLevel { pin: 17, level: 0 },
        PinLevel { pin: 27, level: 0 },
    ]));
    p.push_batches(0..20);

    let got = collect_batches(&sub, 20);
    let want: Vec<_> = (0..20).map(|s| expected("pi-01", s)).collect();
    assert_eq!(got, want);
    // The last batch (seq 19) leaves pin 17 high, pin 27 high: seen live first.
    assert!(sub
        .wait_for(is("edgetap/pi-01/gpio/17", "ON"), WAIT)
        .is_some());
    p.wait_stats("20 batches acknowledged", |s| {
        Stats::get(&s.batches_sent) == 20
    })
    .await;

    // A subscriber arriving after the fact gets the retained state.
    let late = Subscriber::connect(broker.port(), "edgetap/pi-01/#");
    let retained = late.collect_until(|m| m.len() >= 3, Duration::from_secs(5));
    for (topic, payload) in [
        ("edgetap/pi-01/status", "online"),
        ("edgetap/pi-01/gpio/17", "ON"),
        ("edgetap/pi-01/gpio/27", "ON"),
    ] {
        assert!(
            retained
                .iter()
                .any(|m| m.topic == topic && m.payload == payload.as_bytes() && m.retain),
            "retained {topic}={payload} missing in {retained:?}"
        );
    }

    assert_eq!(p.get(|s| &s.connects), 1);
    let stats = p.stats.clone();
    p.finish().await.expect("clean shutdown");
    assert_eq!(Stats::get(&stats.batches_sent), 20);
    assert!(sub
        .wait_for(is("edgetap/pi-01/status", "offline"), WAIT)
        .is_some());
    let after = Subscriber::connect(broker.port(), "edgetap/pi-01/status");
    let m = after.recv_timeout(WAIT).expect("retained status");
    assert_eq!((m.text().as_str(), m.retain), ("offline", true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_unreachable_at_start_then_queued_batches_are_delivered() {
    init_tracing();
    // The broker "appears" when a proxy starts listening on the publisher's port; the test
    // subscriber is connected to mosquitto beforehand, so it cannot miss the first publishes.
    let broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let port = free_port();
    let p = Publisher::spawn(cfg(port), "late", 5);
    p.push_batches(0..8);
    assert_eq!(p.get(|s| &s.batches_dropped), 3, "queue keeps its capacity");
    assert_eq!(p.queue.len(), 5);

    // The broker is away for a while: attempts fail with backoff, nothing is taken from the queue.
    p.wait_stats("a failed connection attempt", |s| {
        Stats::get(&s.connection_errors) >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(p.get(|s| &s.connects), 0);
    assert_eq!(p.queue.len(), 5);
    let attempts = p.get(|s| &s.connection_errors);
    assert!(attempts < 20, "{attempts} attempts in ~1.5 s: busy loop");

    let _proxy = TcpProxy::start(port, broker.port());
    let got = collect_batches(&sub, 5);
    let want: Vec<_> = (3..8).map(|s| expected("late", s)).collect();
    assert_eq!(got, want);
    p.finish().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_broker_restart_with_backoff() {
    init_tracing();
    let mut broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let p = Publisher::spawn(cfg(broker.port()), "pi-r", 64);
    p.push_batches(0..3);
    assert_eq!(collect_batches(&sub, 3).len(), 3);
    p.wait_stats("3 batches acknowledged", |s| {
        Stats::get(&s.batches_sent) == 3
    })
    .await;

    broker.stop();
    let errors_before = p.get(|s| &s.connection_errors);
    p.push_batches(3..6);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let attempts = p.get(|s| &s.connection_errors) - errors_before;
    assert!(
        (1..20).contains(&attempts),
        "{attempts} failed attempts during a 3 s outage"
    );
    assert_eq!(p.get(|s| &s.batches_sent), 3);

    broker.restart();
    p.wait_stats("a second ConnAck", |s| Stats::get(&s.connects) == 2)
        .await;
    // The restarted broker has no persistence: seeing `online` again means it was republished.
    let late = Subscriber::connect(broker.port(), "edgetap/pi-r/#");
    assert!(late
        .wait_for(is("edgetap/pi-r/status", "online"), WAIT)
        .is_some());
    p.wait_stats("batches queued during the outage delivered", |s| {
        Stats::get(&s.batches_sent) == 6
    })
    .await;
    // Delivery resumes for new batches.
    p.push_batches(6..9);
    let got: Vec<u64> = collect_batches(&late, 3).iter().map(|b| b.seq).collect();
    assert_eq!(got, vec![6, 7, 8]);
    p.finish().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_loss_makes_the_broker_publish_the_last_will() {
    init_tracing();
    let broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/+/status");
    let p = Publisher::spawn(cfg(broker.port()), "pi-w", 8);
    assert!(sub
        .wait_for(is("edgetap/pi-w/status", "online"), WAIT)
        .is_some());
    // Dropping the publisher drops its event loop: the socket closes without DISCONNECT.
    p.handle.abort();
    let start = Instant::now();
    assert!(sub
        .wait_for(is("edgetap/pi-w/status", "offline"), WAIT)
        .is_some());
    assert!(start.elapsed() < Duration::from_secs(8));
    let late = Subscriber::connect(broker.port(), "edgetap/pi-w/status");
    let m = late.recv_timeout(WAIT).expect("retained will");
    assert_eq!((m.text().as_str(), m.retain), ("offline", true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_after_drain_timeout_when_broker_is_gone() {
    init_tracing();
    let mut broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/+/status");
    let p = Publisher::spawn_with(cfg(broker.port()), "pi-g", 16, Duration::from_millis(800));
    assert!(sub
        .wait_for(is("edgetap/pi-g/status", "online"), WAIT)
        .is_some());
    broker.stop();
    p.push_batches(0..4);
    let start = Instant::now();
    p.finish().await.expect("gives up cleanly");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_broker_delivers_batches_keeps_retained_and_fires_last_will() {
    init_tracing();
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).expect("broker starts");
    let port = broker.addr().port();
    let sub = Subscriber::connect(port, "edgetap/#");
    let p = Publisher::spawn(cfg(port), "emb", 16);
    p.push(Outgoing::Levels(vec![PinLevel { pin: 5, level: 1 }]));
    p.push_batches(0..3);
    let got = collect_batches(&sub, 3);
    let want: Vec<_> = (0..3).map(|s| expected("emb", s)).collect();
    assert_eq!(got, want);
    p.wait_stats("3 batches acknowledged", |s| {
        Stats::get(&s.batches_sent) == 3
    })
    .await;

    // rumqttd keeps retained messages for later subscribers.
    let late = Subscriber::connect(port, "edgetap/emb/#");
    let retained = late.collect_until(
        |m| {
            m.iter().any(|m| m.topic.ends_with("/status"))
                && m.iter().any(|m| m.topic.ends_with("/gpio/5"))
        },
        Duration::from_secs(5),
    );
    assert!(
        retained
            .iter()
            .any(|m| m.topic == "edgetap/emb/status" && m.text() == "online" && m.retain),
        "{retained:?}"
    );
    assert!(
        retained
            .iter()
            .any(|m| m.topic == "edgetap/emb/gpio/5" && m.text() == "ON" && m.retain),
        "{retained:?}"
    );

    // rumqttd publishes the last will when the connection drops without DISCONNECT.
    p.handle.abort();
    assert!(sub
        .wait_for(is("edgetap/emb/status", "offline"), WAIT)
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos_0_and_2_count_accepted_batches_and_large_batches_fit() {
    init_tracing();
    let broker = Mosquitto::start();
    for qos in [0u8, 2] {
        let device = format!("pi-q{qos}");
        let sub = Subscriber::connect(broker.port(), &format!("edgetap/{device}/edges"));
        let p = Publisher::spawn(
            MqttConfig {
                qos,
                ..cfg(broker.port())
            },
            &device,
            16,
        );
        // 512 edges ≈ 30 KiB of JSON: above rumqttc's default 10 KiB packet limit.
        let mut big = batch(0);
        big.edges = (0..512u64)
            .map(|i| Edge {
                pin: (i % 54) as u8,
                level: (i % 2) as u8,
                t_us: 1_764_040_000_000_000 + i,
                after_gap: false,
            })
            .collect();
        p.push(Outgoing::Batch(big.clone()));
        p.push_batches(1..4);
        let got = collect_batches(&sub, 4);
        assert_eq!(got.len(), 4, "qos {qos}");
        assert_eq!(got[0].edges, big.edges);
        assert_eq!(
            got.iter().map(|b| b.seq).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        p.wait_stats("4 batches accepted", |s| Stats::get(&s.batches_sent) == 4)
            .await;
        p.finish().await.expect("clean shutdown");
    }
}
