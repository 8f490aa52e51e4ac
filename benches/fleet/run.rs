//! One fleet of N agents through every phase: start, steady state, a group patch, a flood on one
//! agent, and a 30 s broker outage.

use std::time::{Duration, Instant};

use crate::agents::{self, Fleet, Memory};
use crate::broker::Broker;
use crate::rig::utc_us;
use crate::watch::{Seen, Watch, SYS_RECEIVED, SYS_SENT};

/// The agent flooded.
const FLOOD: usize = 0;
/// The steady-state window (CPU, memory, messages/s, latency before the flood).
const WINDOW: Duration = Duration::from_secs(20);
/// How long the broker stays down.
pub const OUTAGE: Duration = Duration::from_secs(30);

/// Percentiles of a set of durations, ms.
#[derive(Debug, Default, Clone, Copy)]
pub struct Spread {
    /// How many.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// Of `us` (µs), in ms.
    pub fn of(mut us: Vec<u64>) -> Spread {
        us.sort_unstable();
        if us.is_empty() {
            return Spread::default();
        }
        let at = |q: f64| us[((us.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0;
        Spread {
            n: us.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Everything measured on one fleet.
#[derive(Debug, Default)]
pub struct Figures {
    /// Agents started.
    pub n: usize,
    /// Start of the first agent → the last one's `online`.
    pub start_all_online: Option<Duration>,
    /// Agents that said `online` after the start.
    pub started_online: usize,
    /// Memory of all agents, steady state.
    pub memory: Memory,
    /// The broker's resident set.
    pub broker_rss: u64,
    /// CPU of all agents over the window, % of one core.
    pub agents_cpu: f64,
    /// The broker's CPU over the window, % of one core.
    pub broker_cpu: f64,
    /// This bench's own CPU (the subscriber parsing every batch), % of one core.
    pub watch_cpu: f64,
    /// The machine's load over the window: 1 − idle share of all cores, %.
    pub machine_busy: f64,
    /// PUBLISH packets received by the broker per second (`$SYS`), and sent.
    pub broker_in_per_s: f64,
    /// See `broker_in_per_s`.
    pub broker_out_per_s: f64,
    /// Edge batches per second at the subscriber.
    pub batches_per_s: f64,
    /// Mean payload bytes of a batch.
    pub batch_bytes: f64,
    /// Latency of every edge (not the flood agent's) in the steady window.
    pub latency_before: Spread,
    /// p99 of the two halves of the steady window: the run's noise.
    pub p99_halves: (f64, f64),
    /// Same, during the flood.
    pub latency_during: Spread,
    /// The flood agent's edges/s delivered during the flood.
    pub flood_edges_per_s: f64,
    /// The flood agent's CPU during the flood, % of one core.
    pub flood_cpu: f64,
    /// The broker's CPU during the flood.
    pub flood_broker_cpu: f64,
    /// Group patch published → each agent's result received.
    pub group_patch: Spread,
    /// Results received for it, and how many said ok.
    pub group_results: (usize, usize),
    /// Broker restart (port open again) → each agent's `online`.
    pub back_online: Spread,
    /// Agents back online within the limit.
    pub back_count: usize,
    /// Connects per second at the broker after the restart (its log, 1 s buckets), peak.
    pub connects_peak: usize,
    /// Seconds over which the reconnects spread (first to last bucket with one).
    pub connects_span_s: u64,
    /// Connects per whole second after the restart, from the first.
    pub connects_per_s: Vec<usize>,
    /// Batches missing (holes in a device's seq), over the whole run; devices with a hole.
    pub lost: u64,
    /// See `lost`.
    pub lost_devices: usize,
    /// Copies received twice (QoS 1 allows it).
    pub duplicates: u64,
    /// Batches checked.
    pub checked: u64,
    /// The subscriber's session survived the broker's restart.
    pub session_kept: bool,
    /// Agents that exited on their own (should be none).
    pub died: Vec<usize>,
}

/// Publishes `payload` on `topic` (QoS 1) and waits for the PUBACK, up to 60 s: a loaded
/// broker is slow, not a reason to end the run. False if it never came.
fn publish(port: u16, topic: &str, payload: &[u8]) -> bool {
    use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};
    let mut opts = MqttOptions::new(format!("fleet-pub-{}", utc_us()), "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut conn) = Client::new(opts, 10);
    if client
        .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
        .is_err()
    {
        return false;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match conn.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(Event::Incoming(Incoming::PubAck(_)))) => {
                let _ = client.try_disconnect();
                let _ = conn.recv_timeout(Duration::from_millis(200));
                return true;
            }
            Ok(Err(_)) => std::thread::sleep(Duration::from_millis(200)),
            _ => {}
        }
    }
    eprintln!("publish to {topic}: no PUBACK within 60 s");
    false
}

/// Runs a fleet of `n` agents through every phase.
pub fn fleet(n: usize) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Broker::start(dir.path());
    let watch = Watch::connect(broker.port(), FLOOD);
    let mut f = Figures {
        n,
        ..Figures::default()
    };

    // Start-up: every agent `online`.
    let t0 = utc_us();
    let started = Instant::now();
    let mut fleet = Fleet::start(dir.path(), n, broker.port());
    eprintln!(
        "fleet {n}: {} agents spawned in {:.1} s",
        n,
        started.elapsed().as_secs_f64()
    );
    let all_online = |s: &Seen, from: u64| online_since(s, from).len() >= n;
    if watch.wait(
        |s| all_online(s, t0),
        Duration::from_secs(60 + n as u64 / 5),
    ) {
        f.start_all_online = Some(started.elapsed());
    }
    f.started_online = watch.with(|s| online_since(s, t0).len());
    eprintln!("fleet {n}: {} online", f.started_online);

    // Steady state.
    std::thread::sleep(Duration::from_secs(5));
    let pids = fleet.pids();
    let (broker_pid, me) = (broker.pid().unwrap_or(0), std::process::id());
    let (a0, b0, w0, m0) = (
        agents::cpu(&pids),
        agents::cpu(&[broker_pid]),
        agents::cpu(&[me]),
        idle(),
    );
    let (from, start) = (utc_us(), Instant::now());
    let counts0 = watch.with(|s| (s.batches, s.batch_bytes));
    std::thread::sleep(WINDOW);
    let (to, wall) = (utc_us(), start.elapsed());
    let counts1 = watch.with(|s| (s.batches, s.batch_bytes));
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / wall.as_secs_f64();
    f.agents_cpu = pct(agents::cpu(&pids).saturating_sub(a0));
    f.broker_cpu = pct(agents::cpu(&[broker_pid]).saturating_sub(b0));
    f.watch_cpu = pct(agents::cpu(&[me]).saturating_sub(w0));
    f.machine_busy = idle().map_or(f64::NAN, |(i1, t1)| {
        m0.map_or(f64::NAN, |(i0, t0)| {
            100.0 * (1.0 - (i1 - i0) as f64 / (t1 - t0).max(1) as f64)
        })
    });
    f.memory = agents::memory(&pids);
    f.broker_rss = agents::memory(&[broker_pid]).rss;
    let secs = wall.as_secs_f64();
    f.batches_per_s = (counts1.0 - counts0.0) as f64 / secs;
    f.batch_bytes = (counts1.1 - counts0.1) as f64 / (counts1.0 - counts0.0).max(1) as f64;
    watch.with(|s| {
        f.broker_in_per_s = sys_rate(s, SYS_RECEIVED, from, to);
        f.broker_out_per_s = sys_rate(s, SYS_SENT, from, to);
        f.latency_before = Spread::of(latencies(s, from, to));
        let mid = from + (to - from) / 2;
        f.p99_halves = (
            Spread::of(latencies(s, from, mid)).p99,
            Spread::of(latencies(s, mid, to)).p99,
        );
    });
    eprintln!("fleet {n}: steady state measured");

    // A group patch: every agent's result.
    let sent = utc_us();
    publish(
        broker.port(),
        &format!("edgetap/group/{}/config/set", agents::GROUP),
        br#"{"_version":100,"_request":"fleet-group","batch":{"max_edges":500}}"#,
    );
    let results = |s: &Seen| -> Vec<(u64, bool)> {
        s.results
            .iter()
            .filter(|(_, _, v)| v["request"] == "fleet-group")
            .map(|(t, _, v)| (t.saturating_sub(sent), v["ok"] == true))
            .collect()
    };
    watch.wait(|s| results(s).len() >= n, Duration::from_secs(60));
    let r = watch.with(results);
    f.group_results = (r.len(), r.iter().filter(|(_, ok)| *ok).count());
    f.group_patch = Spread::of(r.into_iter().map(|(t, _)| t).collect());
    eprintln!("fleet {n}: group patch answered by {}", f.group_results.0);

    // A flood on one agent: the others' latency before (above) and during.
    let flood_topic = format!("edgetap/{}/config/set", agents::device(FLOOD));
    let patch = format!(
        r#"{{"_request":"flood","sampler":{{"period_us":10,"block_samples":5000}},"inputs":{{"{}":{{"name":"flood","max_edges_per_s":0}}}}}}"#,
        agents::FLOOD_PIN
    );
    publish(broker.port(), &flood_topic, patch.as_bytes());
    let answered = |req: &'static str| {
        move |s: &Seen| {
            s.results
                .iter()
                .any(|(_, d, v)| *d == FLOOD && v["request"] == req)
        }
    };
    watch.wait(answered("flood"), Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(3));
    let flood_pid = [pids[FLOOD]];
    let (a0, b0) = (agents::cpu(&flood_pid), agents::cpu(&[broker_pid]));
    let edges0 = watch.with(|s| s.flood_edges);
    let (from, start) = (utc_us(), Instant::now());
    std::thread::sleep(WINDOW);
    let (to, wall) = (utc_us(), start.elapsed());
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / wall.as_secs_f64();
    f.flood_cpu = pct(agents::cpu(&flood_pid).saturating_sub(a0));
    f.flood_broker_cpu = pct(agents::cpu(&[broker_pid]).saturating_sub(b0));
    let edges1 = watch.with(|s| s.flood_edges);
    f.flood_edges_per_s = (edges1 - edges0) as f64 / wall.as_secs_f64();
    f.latency_during = watch.with(|s| Spread::of(latencies(s, from, to)));
    let unpatch = format!(
        r#"{{"_request":"unflood","sampler":{{"period_us":{},"block_samples":{}}},"inputs":{{"{}":null}}}}"#,
        agents::PERIOD_US,
        agents::BLOCK_SAMPLES,
        agents::FLOOD_PIN
    );
    publish(broker.port(), &flood_topic, unpatch.as_bytes());
    watch.wait(answered("unflood"), Duration::from_secs(10));
    eprintln!("fleet {n}: flood measured");

    // The broker away for 30 s, then back on the same port.
    std::thread::sleep(Duration::from_secs(5));
    broker.stop();
    let down = utc_us();
    std::thread::sleep(OUTAGE);
    broker.start_again();
    let up = utc_us();
    let up_s = up / 1_000_000;
    eprintln!("fleet {n}: broker back");
    watch.wait(|s| all_online(s, down), OUTAGE * 3);
    let back: Vec<u64> = watch.with(|s| {
        online_since(s, down)
            .into_values()
            .map(|t| t.saturating_sub(up))
            .collect()
    });
    f.back_count = back.len();
    f.back_online = Spread::of(back);
    // The spooled batches replay at up to 500/s per agent: let them drain, then count holes.
    std::thread::sleep(Duration::from_secs(15));
    let connects = broker.connects("edgetap-fleet-", up_s);
    if let (Some(&first), Some(&last)) = (connects.iter().min(), connects.iter().max()) {
        f.connects_span_s = last - first + 1;
        f.connects_per_s = (first..=last)
            .map(|s| connects.iter().filter(|&&c| c == s).count())
            .collect();
        f.connects_peak = f.connects_per_s.iter().copied().max().unwrap_or(0);
    }
    watch.with(|s| {
        f.session_kept = s.connacks.0 >= 2 && s.connacks.1 + 1 == s.connacks.0;
        for (&(dev, _), q) in &s.seqs {
            f.checked += q.seen.len() as u64;
            f.duplicates += q.duplicates;
            let holes = q.holes();
            if holes > 0 {
                f.lost += holes;
                f.lost_devices += 1;
                if f.lost_devices <= 5 {
                    eprintln!("fleet {n}: device {dev} misses {holes} batches");
                }
            }
        }
    });
    f.died = fleet.exited();
    fleet.stop();
    drop(watch);
    drop(broker);
    if f.lost > 0 || f.back_count < n || !f.died.is_empty() {
        // The agents' and the broker's logs say why: keep them.
        eprintln!("fleet {n}: logs kept in {}", dir.keep().display());
    }
    f
}

/// Each device's first live `online` received after `from` (UTC µs).
fn online_since(s: &Seen, from: u64) -> std::collections::HashMap<usize, u64> {
    let mut m = std::collections::HashMap::new();
    for &(t, d) in s.online.iter().filter(|(t, _)| *t >= from) {
        m.entry(d).or_insert(t);
    }
    m
}

/// Latencies (µs) of the edges received in [from, to).
fn latencies(s: &Seen, from: u64, to: u64) -> Vec<u64> {
    s.latency
        .iter()
        .filter(|(t, _, _)| (from..to).contains(t))
        .map(|&(_, _, l)| l)
        .collect()
}

/// Per-second rate of the `$SYS` counter `key` between the readings nearest `from` and `to`.
fn sys_rate(s: &Seen, key: &str, from: u64, to: u64) -> f64 {
    let inside: Vec<(u64, u64)> = s
        .sys
        .iter()
        .filter(|(t, k, _)| *k == key && (from..=to).contains(t))
        .map(|&(t, _, v)| (t, v))
        .collect();
    match (inside.first(), inside.last()) {
        (Some(a), Some(b)) if b.0 > a.0 => {
            b.1.saturating_sub(a.1) as f64 / ((b.0 - a.0) as f64 / 1e6)
        }
        _ => f64::NAN,
    }
}

/// (idle, total) jiffies of all cores, from /proc/stat.
fn idle() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = cpu
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // idle + iowait count as idle.
    Some((v.get(3)? + v.get(4).copied().unwrap_or(0), v.iter().sum()))
}
