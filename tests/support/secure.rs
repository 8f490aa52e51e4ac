//! A mosquitto with TLS, client certificates, a password file and an ACL, and the PKI for it
//! made by the test with rcgen: a CA, a broker certificate, client certificates, and a second
//! CA the broker does not know.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};

use super::{free_port, wait_for_port, Msg};

/// A CA that signs certificates, kept with its key.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    /// A fresh self-signed CA.
    pub fn new(name: &str) -> Ca {
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// Writes the CA certificate to `dir/<file>` and returns its path.
    pub fn write(&self, dir: &Path, file: &str) -> PathBuf {
        let path = dir.join(file);
        std::fs::write(&path, self.cert.pem()).unwrap();
        path
    }

    /// A certificate with common name `cn` and the subject alternative names `sans` (IP
    /// addresses or DNS names), signed by this CA: `(cert, key)` written to `dir/<stem>.pem`
    /// and `dir/<stem>.key`.
    pub fn issue(&self, dir: &Path, stem: &str, cn: &str, sans: &[&str]) -> (PathBuf, PathBuf) {
        let mut p =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        let (c, k) = (
            dir.join(format!("{stem}.pem")),
            dir.join(format!("{stem}.key")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }
}

/// Adds `user` with `password` to the mosquitto password file `file` (created if absent).
pub fn add_user(file: &Path, user: &str, password: &str) {
    let mut cmd = Command::new("mosquitto_passwd");
    if !file.exists() {
        cmd.arg("-c");
    }
    let out = cmd
        .arg("-b")
        .arg(file)
        .args([user, password])
        .output()
        .expect("run mosquitto_passwd (apt-get install mosquitto)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A mosquitto with two listeners on 127.0.0.1: `port` configured by the test (TLS,
/// authentication), `plain` anonymous and open, for the test's own subscribers. Killed on drop.
pub struct SecureMosquitto {
    /// The listener under test.
    pub port: u16,
    /// The open listener (anonymous, no ACL) for observers.
    pub plain: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SecureMosquitto {
    /// Starts mosquitto with `settings` (mosquitto.conf lines) on the listener under test and,
    /// unless `plain_open` is false, an anonymous listener for observers (with `plain_open` false
    /// the observer listener takes the same `settings` minus the TLS lines: `plain_settings`).
    pub fn start(settings: &str, plain_settings: &str) -> SecureMosquitto {
        let dir = tempfile::tempdir().unwrap();
        let (port, plain) = (free_port(), free_port());
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "per_listener_settings true\npersistence false\n\
                 user root\nlog_dest stderr\nlog_type all\nconnection_messages true\n\
                 listener {port} 127.0.0.1\n{settings}\n\
                 listener {plain} 127.0.0.1\n{plain_settings}\n"
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("mosquitto.log")).unwrap();
        let child = Command::new(mosquitto())
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn mosquitto");
        let mut m = SecureMosquitto {
            port,
            plain,
            dir,
            child,
        };
        let up = wait_for_port(port, Duration::from_secs(5))
            && wait_for_port(plain, Duration::from_secs(5));
        assert!(up, "mosquitto did not start; log:\n{}", m.log());
        assert!(m.child.try_wait().unwrap().is_none(), "{}", m.log());
        m
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for SecureMosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mosquitto() -> PathBuf {
    ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("mosquitto"))
}

/// A plain MQTT client logged in as `user`, in its own thread: publishes what it is given,
/// collects what its subscriptions deliver; stops when dropped.
pub struct LoginClient {
    client: Client,
    rx: mpsc::Receiver<Msg>,
    subacks: mpsc::Receiver<Vec<rumqttc::SubscribeReasonCode>>,
}

impl LoginClient {
    /// Connects to 127.0.0.1:`port` as `user`/`password` (client id `id`); panics if the broker
    /// does not accept within 5 s.
    pub fn connect(port: u16, id: &str, user: &str, password: &str) -> LoginClient {
        let mut opts = MqttOptions::new(id, "127.0.0.1", port);
        opts.set_credentials(user, password);
        opts.set_keep_alive(Duration::from_secs(5));
        let (client, mut conn) = Client::new(opts, 16);
        let (tx, rx) = mpsc::channel();
        let (sub_tx, subacks) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for event in conn.iter() {
                match event {
                    Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Incoming::SubAck(s))) => {
                        let _ = sub_tx.send(s.return_codes);
                    }
                    Ok(Event::Incoming(Incoming::Publish(p))) => {
                        let m = Msg {
                            topic: p.topic.clone(),
                            payload: p.payload.to_vec(),
                            retain: p.retain,
                        };
                        if tx.send(m).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        ready
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("{user} was not let in"));
        LoginClient {
            client,
            rx,
            subacks,
        }
    }

    /// Subscribes to `filter` (QoS 1) and returns the broker's answer.
    pub fn subscribe(&self, filter: &str) -> Vec<rumqttc::SubscribeReasonCode> {
        self.client.subscribe(filter, QoS::AtLeastOnce).unwrap();
        self.subacks
            .recv_timeout(Duration::from_secs(5))
            .expect("SUBACK within 5 s")
    }

    /// Publishes `payload` to `topic` (QoS 1, not retained).
    pub fn publish(&self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .unwrap();
    }

    /// Everything delivered within `window`.
    pub fn collect(&self, window: Duration) -> Vec<Msg> {
        let end = Instant::now() + window;
        let mut got = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(m) => got.push(m),
                Err(_) => break,
            }
        }
        got
    }

    /// The first message `pred` accepts within `timeout`.
    pub fn wait_for(&self, mut pred: impl FnMut(&Msg) -> bool, timeout: Duration) -> Option<Msg> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return Some(m),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for LoginClient {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}
