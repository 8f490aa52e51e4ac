//! Shared helpers for integration tests: a real mosquitto per test, a collecting MQTT
//! subscriber, a free-port helper and a TCP proxy that can make a broker "appear" or vanish.
//! Every wait is bounded and every background thread stops by itself.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::io::Read;
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};

pub mod agent;
pub mod batch;
pub mod flood;
pub mod outage;
pub mod remote;
pub mod secure;
pub mod v5;

/// How long a broker may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// A port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range: a port
/// from that range (what binding port 0 gives) can be taken by any outgoing connection of a
/// test running in parallel before the broker or proxy binds it, or while a stopped proxy is
/// down. Ports are handed out in turn from a per-process start, so two tests of one binary never
/// get the same one.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = below_ephemeral();
    let span = u32::from(high - low);
    let start = std::process::id() % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed) % span) % span;
        let port = low + offset as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// The ports free_port hands out: [10000, first ephemeral port), or the conventional range
/// below 32768 if `/proc` does not say.
fn below_ephemeral() -> (u16, u16) {
    let first_ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if first_ephemeral > 12_000 {
        (10_000, first_ephemeral)
    } else {
        (20_000, 30_000)
    }
}

/// Waits (≤ `timeout`) until 127.0.0.1:`port` accepts TCP connections.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn mosquitto_binary() -> PathBuf {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join("mosquitto");
            if p.is_file() {
                return p;
            }
        }
    }
    for p in ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!("mosquitto not found on PATH or in /usr/sbin: run `apt-get install -y mosquitto`");
}

/// A mosquitto process listening on 127.0.0.1, killed on drop.
pub struct Mosquitto {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Keep sessions, queued messages and retained messages across a graceful restart.
    persistent: bool,
    /// More lines for mosquitto.conf (limits, an ACL file).
    extra: String,
}

impl Mosquitto {
    /// Starts mosquitto on a free port.
    pub fn start() -> Mosquitto {
        Self::start_on(free_port())
    }

    /// Starts mosquitto on `port`.
    pub fn start_on(port: u16) -> Mosquitto {
        Self::start_with(port, false)
    }

    /// Starts mosquitto on a free port with persistence: a [`Mosquitto::stop_gracefully`] and
    /// restart keeps persistent sessions (subscriptions and their queued QoS 1 messages).
    pub fn start_persistent() -> Mosquitto {
        Self::start_with(free_port(), true)
    }

    fn start_with(port: u16, persistent: bool) -> Mosquitto {
        Self::start_conf(port, persistent, |_| String::new())
    }

    /// Starts mosquitto on a free port with persistence and the lines `extra` gives for its
    /// directory (e.g. `acl_file <dir>/acl` after writing that file there).
    pub fn start_configured(extra: impl FnOnce(&Path) -> String) -> Mosquitto {
        Self::start_conf(free_port(), true, extra)
    }

    fn start_conf(port: u16, persistent: bool, extra: impl FnOnce(&Path) -> String) -> Mosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        let extra = extra(dir.path());
        let mut m = Mosquitto {
            port,
            dir,
            child: None,
            persistent,
            extra,
        };
        m.spawn();
        m
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Contents of the broker log (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    fn spawn(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        let persistence = if self.persistent {
            // World-writable: mosquitto started as root drops privileges before writing it.
            let db = self.dir.path().join("db");
            std::fs::create_dir_all(&db).expect("create db dir");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o777))
                .expect("chmod db dir");
            format!(
                "persistence true\npersistence_location {}/\nmax_queued_messages 0\n\
                 max_inflight_messages 0\n",
                db.display()
            )
        } else {
            "persistence false\n".to_string()
        };
        // Logging to stderr (redirected to a file we open) works even when mosquitto, started
        // as root, drops privileges and could not open a log file in our tempdir.
        std::fs::write(
            &conf,
            format!(
                "listener {} 127.0.0.1\nallow_anonymous true\n{persistence}\
                 log_dest stderr\nlog_type all\nconnection_messages true\n{}",
                self.port, self.extra
            ),
        )
        .expect("write mosquitto.conf");
        let bin = mosquitto_binary();
        // A restart on the same port can race the old socket's teardown: retry a few times.
        for attempt in 0..5 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.path().join("mosquitto.log"))
                .expect("open log");
            let mut child = Command::new(&bin)
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
            let start = Instant::now();
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: retry
                }
                let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                    self.child = Some(child);
                    return;
                }
                if start.elapsed() > START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(100 * (attempt + 1)));
        }
        panic!(
            "mosquitto did not start on port {}; log:\n{}",
            self.port,
            self.log()
        );
    }

    /// Kills the broker (abruptly, like a crash) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops it with SIGTERM (it saves its persistence database) and waits for it to exit.
    pub fn stop_gracefully(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + START_TIMEOUT;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port after a stop.
    pub fn start_again(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
    }

    /// Stops it and starts it again on the same port (retained messages are lost: no
    /// persistence).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One message seen by a [`Subscriber`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Topic it was published on.
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// Retain flag as delivered (true: a stored retained message sent on subscribe).
    pub retain: bool,
}

impl Msg {
    /// Payload as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// A subscriber in its own thread, collecting messages into a channel. It resubscribes after
/// reconnecting (clean session), and stops when dropped.
pub struct Subscriber {
    rx: mpsc::Receiver<Msg>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Subscriber {
    /// Connects to 127.0.0.1:`port`, subscribes to `filter` at QoS 1 and returns once the broker
    /// acknowledged the subscription (≤ 5 s, else panics).
    pub fn connect(port: u16, filter: &str) -> Subscriber {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let id = format!(
            "test-sub-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self::connect_with(port, filter, id, true)
    }

    /// Like [`Subscriber::connect`] with a persistent session under client id `id`: a broker
    /// with persistence queues QoS 1 messages for it while it is away, across broker restarts.
    pub fn connect_persistent(port: u16, filter: &str, id: &str) -> Subscriber {
        Self::connect_with(port, filter, id.to_string(), false)
    }

    fn connect_with(port: u16, filter: &str, id: String, clean: bool) -> Subscriber {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let filter = filter.to_string();
        let thread = std::thread::spawn(move || {
            let mut opts = MqttOptions::new(id, "127.0.0.1", port);
            opts.set_keep_alive(Duration::from_secs(5));
            opts.set_max_packet_size(4 << 20, 4 << 20);
            opts.set_clean_session(clean);
            let (client, mut conn) = Client::new(opts, 10);
            let mut ready = Some(ready_tx);
            while !stop2.load(Ordering::Relaxed) {
                match conn.recv_timeout(Duration::from_millis(100)) {
                    Ok(Ok(Event::Incoming(Incoming::ConnAck(_)))) => {
                        let _ = client.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Ok(Event::Incoming(Incoming::SubAck(_)))) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Ok(Event::Incoming(Incoming::Publish(p)))) => {
                        let msg = Msg {
                            topic: p.topic.clone(),
                            payload: p.payload.to_vec(),
                            retain: p.retain,
                        };
                        if tx.send(msg).is_err() {
                            break;
                        }
                    }
                    Ok(Ok(_)) => {}
                    // Broker away: rumqttc would retry immediately; don't spin.
                    Ok(Err(_)) => std::thread::sleep(Duration::from_millis(100)),
                    Err(rumqttc::RecvTimeoutError::Timeout) => {}
                    Err(rumqttc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let _ = client.try_disconnect();
            let _ = conn.recv_timeout(Duration::from_millis(200));
        });
        ready_rx
            .recv_timeout(START_TIMEOUT)
            .expect("subscriber did not get SUBACK within 5 s");
        Subscriber {
            rx,
            stop,
            thread: Some(thread),
        }
    }

    /// The next message, if one arrives within `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Msg> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Skips messages until one satisfies `pred`; `None` after `timeout`.
    pub fn wait_for(&self, mut pred: impl FnMut(&Msg) -> bool, timeout: Duration) -> Option<Msg> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return Some(m),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Collects messages until `done(&collected)` holds or `timeout` passes; returns them all.
    pub fn collect_until(
        &self,
        mut done: impl FnMut(&[Msg]) -> bool,
        timeout: Duration,
    ) -> Vec<Msg> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while !done(&got) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            match self.rx.recv_timeout(left) {
                Ok(m) => got.push(m),
                Err(_) => break,
            }
        }
        got
    }

    /// Everything already received, without waiting.
    pub fn drain(&self) -> Vec<Msg> {
        self.rx.try_iter().collect()
    }
}

/// How long a fresh subscriber waits for the retained messages the broker sends on subscribe.
const RETAINED_WINDOW: Duration = Duration::from_millis(1500);

/// The retained messages a fresh subscriber to `filter` gets, by topic.
pub fn retained(port: u16, filter: &str) -> std::collections::BTreeMap<String, Msg> {
    let sub = Subscriber::connect(port, filter);
    sub.collect_until(|_| false, RETAINED_WINDOW)
        .into_iter()
        .filter(|m| m.retain)
        .map(|m| (m.topic.clone(), m))
        .collect()
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Not joined: the thread notices within 100 ms and exits on its own.
        self.thread.take();
    }
}

/// A TCP forwarder 127.0.0.1:`listen` → 127.0.0.1:`upstream`: makes a broker appear at a port
/// at a chosen moment, and `stop` cuts every connection abruptly (no MQTT DISCONNECT).
pub struct TcpProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Starts forwarding connections on `listen` to `upstream`.
    pub fn start(listen: u16, upstream: u16) -> TcpProxy {
        let listener = TcpListener::bind(("127.0.0.1", listen)).expect("proxy bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (stop2, conns2) = (stop.clone(), conns.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((down, _)) => {
                        let _ = down.set_nonblocking(false);
                        let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                            continue;
                        };
                        let mut list = conns2.lock().unwrap();
                        for s in [&down, &up] {
                            if let Ok(c) = s.try_clone() {
                                list.push(c);
                            }
                        }
                        pipe(&down, &up);
                        pipe(&up, &down);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        TcpProxy {
            port: listen,
            stop,
            conns,
            thread: Some(thread),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops listening and shuts down every forwarded connection.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(NetShutdown::Both);
        }
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Copies `from` → `to` in a thread until either side closes.
fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if std::io::Write::write_all(&mut to, &buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(NetShutdown::Both);
        let _ = from.shutdown(NetShutdown::Both);
    });
}

/// Publishes one message to 127.0.0.1:`port` at QoS 1 and returns once the broker acknowledged
/// it (≤ 5 s, else panics). Packets up to 4 MiB.
pub fn publish(port: u16, topic: &str, payload: &[u8], retain: bool) {
    publish_sized(port, topic, payload, retain, 4 << 20);
}

/// [`publish`] with packets up to `max_packet` bytes (a message bigger than the agent reads).
pub fn publish_sized(port: u16, topic: &str, payload: &[u8], retain: bool, max_packet: usize) {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!(
        "test-pub-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(5));
    opts.set_max_packet_size(max_packet, max_packet);
    let (client, mut conn) = Client::new(opts, 10);
    client
        .publish(topic, QoS::AtLeastOnce, retain, payload.to_vec())
        .expect("queue publish");
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        match conn.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(Event::Incoming(Incoming::PubAck(_)))) => {
                let _ = client.try_disconnect();
                let _ = conn.recv_timeout(Duration::from_millis(200));
                return;
            }
            Ok(Err(e)) => panic!("publish to {topic}: {e}"),
            _ => {}
        }
    }
    panic!("publish to {topic}: no PUBACK within 5 s");
}
