//! The agent as a systemd `Type=notify` service, with a `NOTIFY_SOCKET` this test owns (a unix
//! datagram socket in a tempdir): READY=1 arrives once sampling and the publisher run (without a
//! broker too), WATCHDOG=1 every WatchdogSec/2 while both progress, none while the emulator's
//! consumer-stall fault freezes the sampling thread, again after it; STOPPING=1 on SIGTERM.
//! Windows are generous and the assertions are about presence and absence, not exact times.

mod support;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::agent::edgetap;
use support::{free_port, Mosquitto, Subscriber};

/// What the agent sent, with when it arrived.
type Log = Arc<Mutex<Vec<(Instant, String)>>>;

/// A notify socket collecting every datagram until dropped.
struct NotifySocket {
    path: PathBuf,
    log: Log,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).expect("bind notify socket");
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        let log: Log = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (l, s) = (log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(n) = sock.recv(&mut buf) {
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    l.lock().unwrap().push((Instant::now(), text));
                }
            }
        });
        NotifySocket {
            path,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// Datagrams so far.
    fn messages(&self) -> Vec<(Instant, String)> {
        self.log.lock().unwrap().clone()
    }

    /// When the first datagram holding the line `line` arrived (waits ≤ `limit`).
    fn wait_for(&self, line: &str, limit: Duration) -> Option<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            let hit = self
                .messages()
                .into_iter()
                .find(|(_, m)| m.lines().any(|l| l == line));
            if hit.is_some() || Instant::now() >= deadline {
                return hit.map(|(t, _)| t);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Keep-alives that arrived between `from` and `to` after `t0`.
    fn pings_between(&self, t0: Instant, from: Duration, to: Duration) -> usize {
        self.messages()
            .iter()
            .filter(|(t, m)| {
                let at = t.saturating_duration_since(t0);
                at >= from && at < to && m.lines().any(|l| l == "WATCHDOG=1")
            })
            .count()
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The agent process, killed if the test ends early.
struct Agent {
    child: Child,
    stderr: PathBuf,
}

impl Agent {
    fn start(config: &Path, dir: &Path, notify: &Path, watchdog_usec: Option<u64>) -> Agent {
        let stderr = dir.join("agent.stderr");
        let mut cmd = edgetap();
        cmd.args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "edgetap=debug")
            .env("NOTIFY_SOCKET", notify)
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        if let Some(us) = watchdog_usec {
            cmd.env("WATCHDOG_USEC", us.to_string());
        }
        Agent {
            child: cmd.spawn().expect("spawn edgetap run"),
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGTERM, then waits (bounded) for the exit.
    fn stop(&mut self) -> bool {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent config on the emulated board (real time, a looping demo signal), with `extra`
/// TOML appended.
fn config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    support::agent::emulated_config(dir, "notify", &dir.join("state"), port, "", extra)
}

#[test]
fn keep_alives_stop_while_the_sampling_thread_is_frozen_and_resume_after() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/notify/edges");
    // The sampling thread freezes from 4 s to 13 s after the board starts (before READY).
    let cfg = config(
        dir.path(),
        broker.port(),
        "[sampler.emulated.faults]\nconsumer_stall_after_ms = 4000\nconsumer_stall_ms = 9000",
    );
    let notify = NotifySocket::bind(dir.path());
    let mut agent = Agent::start(&cfg, dir.path(), &notify.path, Some(2_000_000));
    let ready = notify
        .wait_for("READY=1", Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no READY=1 within 20 s\n{}", agent.log()));
    assert!(
        sub.wait_for(|_| true, Duration::from_secs(10)).is_some(),
        "batches flow to the broker\n{}",
        agent.log()
    );
    // Run through the stall and well past it: until 17 s after READY.
    while ready.elapsed() < Duration::from_secs(17) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let sec = Duration::from_secs;
    // WatchdogSec = 2 s: a keep-alive about every second while all is well...
    let before = notify.pings_between(ready, Duration::ZERO, Duration::from_millis(3500));
    assert!(
        before >= 2,
        "{before} keep-alives in the first 3.5 s\n{}",
        agent.log()
    );
    // ...none while sampling is frozen (from at most 4 s + W/2 + a poll after READY, to at
    // least 13 s − the start-up before READY)...
    let during = notify.pings_between(ready, sec(6), sec(11));
    assert_eq!(during, 0, "keep-alives during the stall\n{}", agent.log());
    // ...and again once it moves.
    let after = notify.pings_between(ready, sec(14), sec(17));
    assert!(
        after >= 2,
        "{after} keep-alives after the stall\n{}",
        agent.log()
    );
    let log = agent.log();
    assert!(
        log.contains("no progress: watchdog keep-alives stopped")
            && log.contains("part=\"sampling\""),
        "the stall is logged, naming the sampling thread\n{log}"
    );
    assert!(
        log.contains("keep-alives resumed"),
        "the recovery is logged\n{log}"
    );
    // STATUS= carries the live summary.
    assert!(
        notify
            .messages()
            .iter()
            .any(|(_, m)| m.lines().any(|l| l.starts_with("STATUS=edges/s: gpio17="))),
        "STATUS= with the live summary\n{:?}",
        notify.messages().last()
    );
    assert!(agent.stop(), "clean exit on SIGTERM\n{}", agent.log());
    assert!(
        notify.wait_for("STOPPING=1", sec(2)).is_some(),
        "STOPPING=1 on shutdown"
    );
}

#[test]
fn ready_without_a_broker_and_stopping_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port: the broker is away.
    let cfg = config(dir.path(), free_port(), "");
    let notify = NotifySocket::bind(dir.path());
    let mut agent = Agent::start(&cfg, dir.path(), &notify.path, None);
    let ready = notify.wait_for("READY=1", Duration::from_secs(20));
    assert!(
        ready.is_some(),
        "no READY=1 without a broker\n{}",
        agent.log()
    );
    // No WATCHDOG_USEC: no keep-alives, only readiness and status.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !notify
            .messages()
            .iter()
            .any(|(_, m)| m.lines().any(|l| l == "WATCHDOG=1")),
        "keep-alives without a watchdog"
    );
    assert!(agent.stop(), "clean exit on SIGTERM\n{}", agent.log());
    let stopping = notify.wait_for("STOPPING=1", Duration::from_secs(2));
    assert!(
        stopping.is_some(),
        "STOPPING=1 on shutdown\n{}",
        agent.log()
    );
}
