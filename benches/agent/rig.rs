//! The pieces every end-to-end figure needs: the edgetap binary, agent and emulator processes,
//! a subscriber that stamps what it receives, and signals to drive the pins.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};

/// The edgetap binary of this bench build (release profile).
pub fn edgetap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgetap"))
}

/// UTC now, µs.
pub fn utc_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A child process killed on drop; its stderr goes to a file (never a pipe nobody reads).
pub struct Proc {
    child: Child,
    stderr: PathBuf,
}

impl Proc {
    /// Starts `cmd`, logging to `dir/<name>.log`.
    pub fn spawn(mut cmd: Command, dir: &Path, name: &str) -> Proc {
        let stderr = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&stderr).expect("log file");
        let child = cmd
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { child, stderr }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (bounded) for it to end; returns its log.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `edgetap run --config <config>` at log level info.
pub fn agent(config: &Path, dir: &Path) -> Proc {
    let mut cmd = edgetap();
    cmd.args(["run", "--summary-every", "0", "--config"])
        .arg(config);
    cmd.env("RUST_LOG", "info,rumqttd=off");
    Proc::spawn(cmd, dir, "agent")
}

/// `edgetap emulator` for a Pi 3 on `mem`, looping `signal`; returns once the board file exists.
/// A Pi 3: its engine sustains the 1 µs rows (a Pi 4's runs late there, see docs/hardware.md).
pub fn emulator(mem: &Path, signal: &Path, dir: &Path) -> Proc {
    let _ = std::fs::remove_file(mem);
    let mut cmd = edgetap();
    cmd.args(["emulator", "--board", "pi3", "--loop", "--mem"])
        .arg(mem)
        .arg("--signal")
        .arg(signal);
    let p = Proc::spawn(cmd, dir, "emulator");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mem.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    p
}

/// An agent config on the emulated Pi 4 with the demo's inputs (a glitch filter on 17, nothing
/// on 18, a lockout on 27): what the CPU and instruction-count figures both run.
pub struct DemoConfig<'a> {
    /// `device_id`, and the file's name.
    pub device: &'a str,
    /// The emulator's signal.
    pub signal: &'a Path,
    /// The board file of a separate `edgetap emulator` process, or `None` for one in-process.
    pub mem: Option<&'a Path>,
    /// Realtime, or lock-step (in-process only).
    pub realtime: bool,
    /// `sampler.period_us`.
    pub period_us: u32,
    /// `sampler.block_samples`; `None`: the default block (`sampler.block_ms` unset).
    pub block_samples: Option<u32>,
    /// `batch.max_age_ms`.
    pub max_age_ms: u32,
    /// The broker's port.
    pub port: u16,
}

impl DemoConfig<'_> {
    /// Writes the config to `dir/<device>.toml` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let mem = self
            .mem
            .map(|m| format!("mem = \"{}\"\n", m.display()))
            .unwrap_or_default();
        let text = format!(
            r#"device_id = "{device}"
state_dir = "{state}"
[sampler]
backend = "emulated"
period_us = {period_us}
{block}buffer_ms = 100
pacer = "pwm"
[sampler.emulated]
board = "pi3"
{mem}signal = "{signal}"
realtime = {realtime}
loop = true
[[inputs]]
pin = 17
glitch_us = 1000
[[inputs]]
pin = 18
[[inputs]]
pin = 27
lockout_us = 50000
[batch]
max_edges = 512
max_age_ms = {max_age_ms}
[homeassistant]
enabled = false
[mqtt]
port = {port}
"#,
            device = self.device,
            state = dir.join(format!("{}-state", self.device)).display(),
            signal = self.signal.display(),
            realtime = self.realtime,
            period_us = self.period_us,
            block = self
                .block_samples
                .map(|n| format!("block_samples = {n}\n"))
                .unwrap_or_default(),
            max_age_ms = self.max_age_ms,
            port = self.port,
        );
        let path = dir.join(format!("{}.toml", self.device));
        std::fs::write(&path, text).expect("write the bench config");
        path
    }
}

/// Writes the demo signal (`seconds` long) to `dir/demo.vcd`.
pub fn demo_signal(dir: &Path, seconds: u32) -> PathBuf {
    let path = dir.join("demo.vcd");
    let ok = edgetap()
        .args(["signal", "demo", "--seconds", &seconds.to_string(), "--out"])
        .arg(&path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "edgetap signal demo failed");
    path
}

/// Writes a VCD in which each of `pins` toggles every `every_us` (pin k shifted by k µs), for
/// `seconds`; returns its path.
pub fn square_signal(dir: &Path, pins: &[u8], every_us: u64, seconds: u64) -> PathBuf {
    use edgetap::vcd::{TraceBuilder, FS_PER_US};
    let end_us = seconds * 1_000_000;
    let mut b = TraceBuilder::new();
    for &p in pins {
        b.initial(p, 0);
    }
    let mut levels = vec![0u8; pins.len()];
    let mut t = every_us;
    while t < end_us {
        for (k, &p) in pins.iter().enumerate() {
            let at = t + k as u64 % every_us;
            if at < end_us {
                levels[k] ^= 1;
                b.change_us(at, p, levels[k]);
            }
        }
        t += every_us;
    }
    b.end_at(u128::from(end_us) * FS_PER_US);
    let path = dir.join(format!("square-{}x{every_us}us.vcd", pins.len()));
    let file = std::fs::File::create(&path).expect("signal file");
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).expect("write VCD");
    path
}

/// What a [`Stamped`] subscriber saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Messages received.
    pub messages: u64,
    /// Edges in them (see [`edges_in`]).
    pub edges: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// (receive UTC µs, payload) of every message, when kept.
    pub kept: Vec<(u64, Vec<u8>)>,
    /// First and last receive time (UTC µs).
    pub first_us: Option<u64>,
    /// See `first_us`.
    pub last_us: u64,
}

/// A subscriber thread that counts (and optionally keeps) what arrives, stamped on receipt.
pub struct Stamped {
    /// Shared counters.
    pub seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stamped {
    /// Subscribes to `filter` on 127.0.0.1:`port` (QoS 1); `keep` keeps every payload.
    pub fn connect(port: u16, filter: &str, keep: bool) -> Stamped {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (seen2, stop2, filter) = (seen.clone(), stop.clone(), filter.to_string());
        let thread = std::thread::spawn(move || {
            let mut opts = MqttOptions::new(format!("bench-{}", utc_us()), "127.0.0.1", port);
            opts.set_keep_alive(Duration::from_secs(10));
            opts.set_max_packet_size(16 << 20, 16 << 20);
            let (client, mut conn) = Client::new(opts, 64);
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
                        let now = utc_us();
                        let edges = edges_in(&p.payload);
                        let Ok(mut s) = seen2.lock() else { break };
                        s.messages += 1;
                        s.edges += edges;
                        s.bytes += p.payload.len() as u64;
                        s.first_us.get_or_insert(now);
                        s.last_us = now;
                        if keep {
                            s.kept.push((now, p.payload.to_vec()));
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => std::thread::sleep(Duration::from_millis(50)),
                    Err(rumqttc::RecvTimeoutError::Timeout) => {}
                    Err(rumqttc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let _ = client.try_disconnect();
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("subscriber connected");
        Stamped {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// (messages, edges, bytes) so far.
    pub fn totals(&self) -> (u64, u64, u64) {
        let s = self.seen.lock().expect("subscriber state");
        (s.messages, s.edges, s.bytes)
    }

    /// Waits (bounded) until `pred` holds on what was seen.
    pub fn wait(&self, pred: impl Fn(&Seen) -> bool, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if pred(&self.seen.lock().expect("subscriber state")) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for Stamped {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Edges in a batch payload, without parsing it (the subscriber must keep up with millions a
/// second): `"pin":` keys in the object format, `dt_us` entries in the columnar one.
pub fn edges_in(payload: &[u8]) -> u64 {
    if !payload.starts_with(b"{\"v\":2,") {
        return count(payload, b"\"pin\":");
    }
    const KEY: &[u8] = b"\"dt_us\":[";
    let mut n = 0;
    let mut rest = payload;
    while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
        rest = &rest[at + KEY.len()..];
        let end = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        n += 1 + rest[..end].iter().filter(|&&b| b == b',').count() as u64;
        rest = &rest[end..];
    }
    n
}

/// Occurrences of `needle` in `hay`.
pub fn count(hay: &[u8], needle: &[u8]) -> u64 {
    hay.windows(needle.len()).filter(|w| *w == needle).count() as u64
}

/// `key=N` from the agent's closing log line ("agent stopped …").
pub fn logged(log: &str, key: &str) -> Option<u64> {
    let line = log.lines().rev().find(|l| l.contains("agent stopped"))?;
    let at = line.find(&format!("{key}="))? + key.len() + 1;
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
