//! Helpers for the store-and-forward tests: a 10,000 edges/s signal, the agent config, the
//! batches by (run, seq), the agent's closing counters, a broker behind a link that can be cut,
//! and what a spool directory would replay.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::agent::{capture_edges, logged, AgentProcess};
use super::remote::START_US;
use super::{free_port, Mosquitto, Msg, Subscriber, TcpProxy};

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy, PartialOrd, Ord)]
pub struct Edge {
    pub t_us: u64,
    pub pin: u8,
    pub level: u8,
}

#[derive(Debug, Deserialize)]
pub struct Batch {
    pub run: u64,
    pub seq: u64,
    pub edges: Vec<Edge>,
}

/// Two 5 kHz square waves (10,000 edges/s together) on GPIO 20 and 21, `seconds` long, silent
/// while `quiet` (µs of signal time).
pub fn signal(dir: &Path, seconds: u64, quiet: std::ops::Range<u64>) -> PathBuf {
    use edgetap::vcd::{TraceBuilder, FS_PER_US};
    let end_us = seconds * 1_000_000;
    let mut b = TraceBuilder::new();
    b.initial(20, 0).initial(21, 0);
    let mut level = 0;
    for t in (100..end_us).step_by(100).filter(|t| !quiet.contains(t)) {
        level ^= 1;
        b.change_us(t, 20, level).change_us(t + 50, 21, level);
    }
    b.end_at(u128::from(end_us) * FS_PER_US);
    let path = dir.join("square.vcd");
    let file = std::fs::File::create(&path).unwrap();
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).unwrap();
    path
}

/// An agent config replaying `signal` in real time, once, from [`START_US`].
pub fn config(dir: &Path, device: &str, signal: &Path, port: u16, extra: &str) -> PathBuf {
    let path = dir.join(format!("{device}.toml"));
    let text = format!(
        r#"device_id = "{device}"
state_dir = "{state}"
[sampler]
period_us = 5
block_samples = 1000
[sampler.replay]
signal = "{signal}"
realtime = true
start_us = {START_US}
[[inputs]]
pin = 20
[[inputs]]
pin = 21
[batch]
max_edges = 512
max_age_ms = 50
[homeassistant]
enabled = false
[mqtt]
port = {port}
keep_alive_s = 5
reconnect_min_ms = 50
reconnect_max_ms = 500
{extra}
"#,
        state = dir.join(format!("{device}-state")).display(),
        signal = signal.display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The edges `edgetap capture` finds with `config`: what the agent must deliver.
pub fn expected(config: &Path) -> BTreeSet<Edge> {
    let args = ["--set", "sampler.replay.realtime=false"];
    capture_edges::<Edge>(config, &args).0.into_iter().collect()
}

/// Batches of `device` by (run, seq); a repeated (run, seq) must carry the same edges.
pub fn by_seq(msgs: &[Msg], device: &str) -> BTreeMap<(u64, u64), Vec<Edge>> {
    let topic = format!("edgetap/{device}/edges");
    let mut out: BTreeMap<(u64, u64), Vec<Edge>> = BTreeMap::new();
    for m in msgs.iter().filter(|m| m.topic == topic) {
        let b: Batch = serde_json::from_slice(&m.payload).expect("batch JSON");
        if let Some(seen) = out.get(&(b.run, b.seq)) {
            assert_eq!(seen, &b.edges, "a duplicate is a whole, identical batch");
        }
        out.insert((b.run, b.seq), b.edges);
    }
    out
}

/// `key=N` from the agent's closing log line.
pub fn stopped(stderr: &str, key: &str) -> u64 {
    logged(stderr, "agent stopped", key)
}

/// Collects messages until the agent has exited and nothing more arrives for a second.
pub fn collect_until_exit(sub: &Subscriber, agent: &mut AgentProcess, limit: Duration) -> Vec<Msg> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while agent.is_running() && Instant::now() < deadline {
        got.extend(sub.collect_until(|_| false, Duration::from_millis(500)));
    }
    got.extend(sub.collect_until(|_| false, Duration::from_secs(1)));
    got
}

/// A mosquitto the agent reaches through a proxy that can cut the link, the agent's config,
/// and a subscriber that stays connected to the broker while the agent's link is down.
pub struct ProxiedRig {
    pub broker: Mosquitto,
    pub dir: tempfile::TempDir,
    proxy_port: u16,
    proxy: Option<TcpProxy>,
    pub config: PathBuf,
    pub sub: Subscriber,
}

impl ProxiedRig {
    /// The rig for `device`, replaying [`signal`]`(seconds, quiet)`, subscribed to `topic`
    /// below `edgetap/<device>/`.
    pub fn new(
        device: &str,
        seconds: u64,
        quiet: std::ops::Range<u64>,
        extra: &str,
        topic: &str,
    ) -> Self {
        let broker = Mosquitto::start();
        let dir = tempfile::tempdir().unwrap();
        let signal = signal(dir.path(), seconds, quiet);
        let proxy_port = free_port();
        let proxy = Some(TcpProxy::start(proxy_port, broker.port()));
        let config = config(dir.path(), device, &signal, proxy_port, extra);
        let sub = Subscriber::connect(broker.port(), &format!("edgetap/{device}/{topic}"));
        ProxiedRig {
            broker,
            dir,
            proxy_port,
            proxy,
            config,
            sub,
        }
    }

    /// Cuts the agent off the broker (open connections dropped, new ones refused).
    pub fn cut(&mut self) {
        if let Some(mut p) = self.proxy.take() {
            p.stop();
        }
    }

    /// Lets the agent reach the broker again.
    pub fn restore(&mut self) {
        if self.proxy.is_none() {
            self.proxy = Some(TcpProxy::start(self.proxy_port, self.broker.port()));
        }
    }
}

/// Segment files of a spool directory, oldest first.
pub fn segments(spool: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

/// The (run, seq) of every batch a copy of `spool` would replay.
pub fn spooled(spool: &Path, scratch: &Path) -> BTreeSet<(u64, u64)> {
    std::fs::create_dir_all(scratch).unwrap();
    for f in std::fs::read_dir(spool).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, scratch.join(f.file_name().unwrap())).unwrap();
    }
    let opts = edgetap::spool::SpoolOptions::new(scratch, 64 << 20);
    let (mut s, _) = edgetap::spool::Spool::open(opts).unwrap();
    let mut buf = Vec::new();
    let mut out = BTreeSet::new();
    while s.next(&mut buf).unwrap().is_some() {
        let b: Batch = serde_json::from_slice(&buf).unwrap();
        out.insert((b.run, b.seq));
    }
    out
}
