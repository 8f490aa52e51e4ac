//! The fleet's one mosquitto: no connection limit, persistence (a graceful stop keeps sessions and
//! retained messages, as a maintenance restart of a real broker does), `$SYS` every second, and
//! connection messages in its log (not `log_type all`: a line per PUBLISH would cost the broker
//! more than the fleet does).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{free_port, wait_for_port};

/// A mosquitto process, killed on drop.
pub struct Broker {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Broker {
    /// Starts mosquitto on a free loopback port with its files in `dir`.
    pub fn start(dir: &Path) -> Broker {
        let db = dir.join("db");
        std::fs::create_dir_all(&db).expect("broker db dir");
        // World-writable: mosquitto started as root drops to its own user before it saves the
        // database at a graceful stop; unable to, it would come back without any session, and
        // what agents publish before the subscriber subscribes again would go nowhere.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o777))
            .expect("chmod broker db dir");
        let port = free_port();
        let conf = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nmax_connections -1\n\
             persistence true\npersistence_location {}/\nmax_queued_messages 0\n\
             max_inflight_messages 0\nsys_interval 1\nlog_dest stderr\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n\
             connection_messages true\n",
            db.display()
        );
        std::fs::write(dir.join("mosquitto.conf"), conf).expect("mosquitto.conf");
        let mut b = Broker {
            port,
            dir: dir.to_path_buf(),
            child: None,
        };
        b.spawn();
        b
    }

    fn spawn(&mut self) {
        for attempt in 0..5u64 {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join("mosquitto.log"))
                .expect("broker log");
            let mut child = Command::new("mosquitto")
                .arg("-c")
                .arg(self.dir.join("mosquitto.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("mosquitto on PATH (apt-get install mosquitto)");
            if wait_for_port(self.port, Duration::from_secs(5)) {
                self.child = Some(child);
                return;
            }
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(200 * (attempt + 1)));
        }
        panic!("mosquitto did not start:\n{}", self.log());
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM (it saves sessions and retained messages) and a bounded wait.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
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

    /// Starts it again on the same port.
    pub fn start_again(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    /// Unix seconds of every "New client connected … as <id>" line for a client id starting
    /// with `prefix`, at or after `from_s`.
    pub fn connects(&self, prefix: &str, from_s: u64) -> Vec<u64> {
        let needle = format!(" as {prefix}");
        self.log()
            .lines()
            .filter(|l| l.contains("New client connected") && l.contains(&needle))
            .filter_map(|l| l.split(':').next()?.trim().parse::<u64>().ok())
            .filter(|&s| s >= from_s)
            .collect()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
