//! TLS and credentials against a real mosquitto: the broker's certificate is verified (a
//! wrong CA or name is refused, counted, and retried only at the backoff's pace), a client
//! certificate logs in, and a device logged in with a password is confined by the fleet ACL
//! of `deploy/mosquitto-acl.conf`. Certificates are made by the test (rcgen).

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgetap::config::MqttConfig;
use edgetap::mqtt::MqttError;
use edgetap::queue::DropOldestQueue;
use edgetap::shutdown::Shutdown;
use edgetap::stats::Stats;
use support::agent::{demo_signal, AgentProcess};
use support::secure::{add_user, Ca, LoginClient, SecureMosquitto};
use support::Subscriber;
use tokio::task::JoinHandle;

const WAIT: Duration = Duration::from_secs(10);

/// The publisher task with its stats.
struct Publisher {
    stats: Arc<Stats>,
    shutdown: Shutdown,
    handle: JoinHandle<Result<(), MqttError>>,
}

impl Publisher {
    fn spawn(cfg: MqttConfig, device: &str) -> Publisher {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("edgetap=debug")
            .try_init();
        let queue = Arc::new(DropOldestQueue::new(8));
        let stats = Arc::new(Stats::default());
        let shutdown = Shutdown::new();
        let handle = tokio::spawn(
            edgetap::mqtt::Publishing::new(
                cfg,
                device.into(),
                queue,
                stats.clone(),
                shutdown.clone(),
            )
            .drain_timeout(Duration::from_secs(1))
            .run(),
        );
        Publisher {
            stats,
            shutdown,
            handle,
        }
    }

    fn get(&self, f: impl Fn(&Stats) -> &std::sync::atomic::AtomicU64) -> u64 {
        Stats::get(f(&self.stats))
    }

    async fn wait_stats(&self, what: &str, cond: impl Fn(&Stats) -> bool) {
        let start = Instant::now();
        while !cond(&self.stats) {
            assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) {
        self.shutdown.trigger();
        let _ = tokio::time::timeout(WAIT, self.handle).await;
    }
}

/// TLS settings for 127.0.0.1:`port`.
fn tls_cfg(port: u16, ca: &Path) -> MqttConfig {
    let mut cfg = MqttConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        keep_alive_s: 5,
        reconnect_min_ms: 200,
        reconnect_max_ms: 800,
        ..MqttConfig::default()
    };
    cfg.tls.enabled = true;
    cfg.tls.ca_file = Some(ca.to_path_buf());
    cfg
}

/// The broker's TLS listener lines.
fn tls_listener(ca: &Path, cert: &Path, key: &Path) -> String {
    format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nallow_anonymous true\n",
        ca.display(),
        cert.display(),
        key.display()
    )
}

/// Waits until the device announces itself `online` on the observers' listener.
fn online(sub: &Subscriber, device: &str) -> bool {
    let topic = format!("edgetap/{device}/status");
    sub.wait_for(|m| m.topic == topic && m.payload == b"online", WAIT)
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_brokers_certificate_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("fleet CA");
    let ca_file = ca.write(dir.path(), "ca.pem");
    let stranger = Ca::new("someone else").write(dir.path(), "other-ca.pem");
    // The broker's certificate names `broker.example` only, not the address connected to.
    let (cert, key) = ca.issue(dir.path(), "broker", "broker.example", &["broker.example"]);
    let broker =
        SecureMosquitto::start(&tls_listener(&ca_file, &cert, &key), "allow_anonymous true");
    let sub = Subscriber::connect(broker.plain, "edgetap/#");

    // Right CA, and the name the certificate carries: in.
    let mut good = tls_cfg(broker.port, &ca_file);
    good.tls.server_name = Some("broker.example".into());
    let p = Publisher::spawn(good, "pi-tls");
    assert!(online(&sub, "pi-tls"), "log:\n{}", broker.log());
    assert_eq!(p.get(|s| &s.connect_failures_tls), 0);
    p.stop().await;

    // A CA the broker's certificate does not chain to, or the wrong name: refused, counted as
    // TLS failures, retried at the backoff's pace (200-800 ms), never connected.
    let wrong_ca = {
        let mut c = tls_cfg(broker.port, &stranger);
        c.tls.server_name = Some("broker.example".into());
        c
    };
    let wrong_name = tls_cfg(broker.port, &ca_file);
    for (what, cfg) in [("wrong CA", wrong_ca), ("wrong name", wrong_name)] {
        let p = Publisher::spawn(cfg, "pi-bad");
        p.wait_stats(what, |s| Stats::get(&s.connect_failures_tls) >= 1)
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let tls = p.get(|s| &s.connect_failures_tls);
        let all = p.get(|s| &s.connection_errors);
        assert_eq!(p.get(|s| &s.connects), 0, "{what}");
        assert_eq!(tls, all, "{what}: every failure is a TLS one");
        assert!((2..=12).contains(&tls), "{what}: {tls} attempts in ~2 s");
        assert_eq!(p.get(|s| &s.connect_failures_auth), 0, "{what}");
        p.stop().await;
    }
    assert!(sub.drain().iter().all(|m| !m.topic.contains("pi-bad")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("fleet CA");
    let ca_file = ca.write(dir.path(), "ca.pem");
    let (cert, key) = ca.issue(
        dir.path(),
        "broker",
        "localhost",
        &["127.0.0.1", "localhost"],
    );
    let (client_cert, client_key) = ca.issue(dir.path(), "pi-cert", "pi-cert", &[]);
    let broker = SecureMosquitto::start(
        &format!(
            "{}require_certificate true\nuse_identity_as_username true\n",
            tls_listener(&ca_file, &cert, &key)
        ),
        "allow_anonymous true",
    );
    let sub = Subscriber::connect(broker.plain, "edgetap/#");

    let mut with_cert = tls_cfg(broker.port, &ca_file);
    with_cert.tls.cert_file = Some(client_cert);
    with_cert.tls.key_file = Some(client_key);
    let p = Publisher::spawn(with_cert, "pi-cert");
    assert!(online(&sub, "pi-cert"), "log:\n{}", broker.log());
    p.stop().await;
    assert!(
        broker.log().contains("u'pi-cert'"),
        "the certificate's name is the user name:\n{}",
        broker.log()
    );

    // Without a certificate the broker ends the handshake: a TLS failure, not a login one.
    let p = Publisher::spawn(tls_cfg(broker.port, &ca_file), "pi-nocert");
    p.wait_stats("a refused handshake", |s| {
        Stats::get(&s.connection_errors) >= 2
    })
    .await;
    assert_eq!(p.get(|s| &s.connects), 0);
    assert!(p.get(|s| &s.connect_failures_tls) >= 1);
    p.stop().await;
}

/// A fleet broker: password file with pi-01, pi-02 and fleet-admin, and the example ACL.
fn fleet_broker(dir: &Path) -> SecureMosquitto {
    let passwords = dir.join("passwd");
    add_user(&passwords, "pi-01", "pi-01-secret");
    add_user(&passwords, "pi-02", "pi-02-secret");
    add_user(&passwords, "fleet-admin", "admin-secret");
    let acl = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto-acl.conf");
    let auth = format!(
        "allow_anonymous false\npassword_file {}\nacl_file {}\n",
        passwords.display(),
        acl.display()
    );
    SecureMosquitto::start(&auth, &auth)
}

/// An agent config for device pi-01 in group kitchen, logging in with a password file.
fn fleet_agent(dir: &Path, port: u16, password: &str) -> std::path::PathBuf {
    let signal = demo_signal(dir, 60);
    let pw = dir.join("mqtt-password");
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.join("edgetap.toml");
    std::fs::write(
        &config,
        format!(
            r#"device_id = "pi-01"
groups = ["kitchen"]
state_dir = "state"
[sampler]
period_us = 5
block_samples = 500
[sampler.replay]
signal = "{}"
[[inputs]]
pin = 17
[[inputs]]
pin = 18
[batch]
max_age_ms = 50
[mqtt]
port = {port}
username = "pi-01"
password_file = "mqtt-password"
keep_alive_s = 5
reconnect_min_ms = 200
reconnect_max_ms = 800
[homeassistant]
enabled = false
[stats]
interval_s = 1
"#,
            signal.display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn the_acl_confines_a_device_to_its_own_topics() {
    let dir = tempfile::tempdir().unwrap();
    let broker = fleet_broker(dir.path());
    let admin = LoginClient::connect(broker.plain, "admin", "fleet-admin", "admin-secret");
    admin.subscribe("edgetap/#");
    let mut agent = AgentProcess::start(&fleet_agent(dir.path(), broker.port, "pi-01-secret"), &[]);
    let edges = admin.wait_for(|m| m.topic == "edgetap/pi-01/edges", WAIT);
    assert!(
        edges.is_some(),
        "agent:\n{}\nbroker:\n{}",
        agent.stderr(),
        broker.log()
    );

    // Its group's config/set reaches it: the result comes back on its own topic.
    admin.publish(
        "edgetap/group/kitchen/config/set",
        r#"{"_request":"g1","_version":1,"batch":{"max_edges":100}}"#,
    );
    let result = admin.wait_for(
        |m| m.topic == "edgetap/pi-01/config/result" && m.text().contains("\"g1\""),
        WAIT,
    );
    let result = result.unwrap_or_else(|| panic!("no result; agent:\n{}", agent.stderr()));
    assert!(result.text().contains("\"ok\":true"), "{}", result.text());

    // Logged in as pi-01, a client can neither write pi-02's topics nor read its config/set.
    let intruder = LoginClient::connect(broker.port, "pi-01-other", "pi-01", "pi-01-secret");
    intruder.subscribe("edgetap/pi-02/config/set");
    intruder.publish("edgetap/pi-02/edges", "forged");
    intruder.publish("edgetap/pi-02/config/result", "forged");
    admin.publish("edgetap/pi-02/config/set", r#"{"batch":{"max_edges":7}}"#);
    let seen = admin.collect(Duration::from_secs(2));
    assert!(
        seen.iter()
            .all(|m| !m.topic.starts_with("edgetap/pi-02/") || m.topic.ends_with("/config/set")),
        "a forged publish reached the broker's subscribers: {seen:?}"
    );
    assert!(
        intruder.collect(Duration::from_millis(500)).is_empty(),
        "pi-01 read pi-02's config/set"
    );
    // The agent's own traffic keeps flowing.
    assert!(
        seen.iter().any(|m| m.topic == "edgetap/pi-01/edges"),
        "pi-01's edges stopped: {:?}",
        seen.iter().map(|m| &m.topic).collect::<Vec<_>>()
    );
    assert!(
        broker.log().contains("Denied PUBLISH from pi-01-other"),
        "{}",
        broker.log()
    );
    assert!(agent.is_running());
}

#[test]
fn a_wrong_password_is_one_clear_error_per_attempt_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let broker = fleet_broker(dir.path());
    let admin = LoginClient::connect(broker.plain, "admin", "fleet-admin", "admin-secret");
    admin.subscribe("edgetap/#");
    let agent = AgentProcess::start(&fleet_agent(dir.path(), broker.port, "guessed-wrong"), &[]);
    std::thread::sleep(Duration::from_secs(3));
    let log = agent.stderr();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("cannot connect to MQTT broker"))
        .collect();
    assert!(
        (2..=16).contains(&errors.len()),
        "{} errors in 3 s:\n{log}",
        errors.len()
    );
    // mosquitto answers a wrong password with "not authorized" on MQTT 3.1.1.
    assert!(
        errors
            .iter()
            .all(|l| l.contains("refused the login") && l.contains("mqtt.password_file")),
        "{log}"
    );
    assert!(
        !log.contains("guessed-wrong"),
        "the password was logged:\n{log}"
    );
    assert!(admin.collect(Duration::from_millis(200)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_logins_are_counted_and_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let broker = fleet_broker(dir.path());
    let cfg = MqttConfig {
        host: "127.0.0.1".into(),
        port: Some(broker.port),
        username: Some("pi-01".into()),
        password: Some("guessed-wrong".into()),
        keep_alive_s: 5,
        reconnect_min_ms: 200,
        reconnect_max_ms: 800,
        ..MqttConfig::default()
    };
    let p = Publisher::spawn(cfg, "pi-01");
    p.wait_stats("a refused login", |s| {
        Stats::get(&s.connect_failures_auth) >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let auth = p.get(|s| &s.connect_failures_auth);
    assert_eq!(
        auth,
        p.get(|s| &s.connection_errors),
        "every failure is a login one"
    );
    assert!((2..=12).contains(&auth), "{auth} attempts in ~2 s");
    assert_eq!(p.get(|s| &s.connect_failures_tls), 0);
    assert_eq!(p.get(|s| &s.connects), 0);
    p.stop().await;
}
