//! No root after set-up, on the emulated board with a real mosquitto: started as root with
//! `run_as = "nobody"`, the running agent is uid/gid nobody with every capability set empty
//! while batches keep flowing; started unprivileged with ambient capabilities (as systemd starts
//! the unit), it drops them all without `run_as`. Needs root (to start it so); skipped, saying
//! so, otherwise.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::agent::edgetap;
use support::{Mosquitto, Subscriber};

/// The uid/gid `nobody` has here, if it exists and we are root.
fn nobody() -> Option<(u32, u32)> {
    let me = std::fs::read_to_string("/proc/self/status").ok()?;
    if field(&me, "Uid:")?.split_whitespace().next()? != "0" {
        eprintln!("skipped: needs root to start the agent as root and as another user");
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("nobody:"));
    let Some(line) = line else {
        eprintln!("skipped: no user `nobody` here");
        return None;
    };
    let f: Vec<&str> = line.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

fn field(status: &str, key: &str) -> Option<String> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_owned())
}

/// A state directory nobody can write, inside a tempdir nobody can pass through.
fn state_dir_for(dir: &Path, uid: u32, gid: u32) -> PathBuf {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    let state = dir.join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(uid), Some(gid)).unwrap();
    state
}

fn config(dir: &Path, device: &str, state: &Path, port: u16, extra: &str) -> PathBuf {
    support::agent::emulated_config(dir, device, state, port, extra, "")
}

/// The agent, killed if the test ends early; its board file (created as root in /dev/shm,
/// which the dropped agent may not remove) is removed after.
struct Agent {
    child: Child,
    stderr: PathBuf,
}

impl Agent {
    fn spawn(mut cmd: Command, dir: &Path) -> Agent {
        let stderr = dir.join("agent.stderr");
        cmd.env("RUST_LOG", "edgetap=debug")
            .env_remove("NOTIFY_SOCKET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        Agent {
            child: cmd.spawn().expect("spawn the agent"),
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// /proc/<pid>/status once the agent logged that set-up is done (≤ 20 s).
    fn status_after_setup(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.log().contains("running without capabilities") {
                return std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
                    .unwrap_or_default();
            }
            if let Ok(Some(s)) = self.child.try_wait() {
                panic!("agent exited ({s}) during set-up\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("set-up not done within 20 s\n{}", self.log());
    }

    fn threads(&self) -> Vec<String> {
        let dir = format!("/proc/{}/task", self.child.id());
        let mut out = Vec::new();
        for t in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            out.extend(std::fs::read_to_string(t.path().join("status")));
        }
        out
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let prefix = format!("edgetap-board-{pid}-");
        for e in std::fs::read_dir("/dev/shm")
            .into_iter()
            .flatten()
            .flatten()
        {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

const NO_CAPS: &str = "0000000000000000";

fn assert_no_capabilities(status: &str, log: &str) {
    for key in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
        assert_eq!(
            field(status, key).as_deref(),
            Some(NO_CAPS),
            "{key} after set-up\n{status}\n{log}"
        );
    }
    assert_eq!(
        field(status, "NoNewPrivs:").as_deref(),
        Some("1"),
        "{status}"
    );
}

/// Batches keep arriving after the drop: the spool, the remote config and the MQTT link work
/// as the unprivileged user.
fn assert_batches_flow(sub: &Subscriber, log: &str) {
    let mut batches = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while batches < 5 && Instant::now() < deadline {
        if sub.recv_timeout(Duration::from_millis(500)).is_some() {
            batches += 1;
        }
    }
    assert!(batches >= 5, "only {batches} batches after the drop\n{log}");
}

#[test]
fn run_as_nobody_leaves_no_capabilities_while_batches_flow() {
    let Some((uid, gid)) = nobody() else { return };
    let dir = tempfile::tempdir().unwrap();
    let state = state_dir_for(dir.path(), uid, gid);
    let broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/runas/edges");
    let cfg = config(
        dir.path(),
        "runas",
        &state,
        broker.port(),
        "run_as = \"nobody\"",
    );
    let mut cmd = edgetap();
    cmd.args(["run", "--config"]).arg(&cfg);
    let mut agent = Agent::spawn(cmd, dir.path());
    let status = agent.status_after_setup();
    let log = agent.log();
    let uids = field(&status, "Uid:").unwrap_or_default();
    assert_eq!(
        uids,
        format!("{uid}\t{uid}\t{uid}\t{uid}"),
        "real, effective, saved and fs uid are nobody's\n{log}"
    );
    let gids = field(&status, "Gid:").unwrap_or_default();
    assert_eq!(gids, format!("{gid}\t{gid}\t{gid}\t{gid}"), "{log}");
    assert_ne!(uid, 0);
    assert_no_capabilities(&status, &log);
    assert_eq!(
        field(&status, "CapBnd:").as_deref(),
        Some(NO_CAPS),
        "root may empty the bounding set\n{log}"
    );
    // Every thread, not only the main one.
    for t in agent.threads() {
        assert_eq!(field(&t, "CapEff:").as_deref(), Some(NO_CAPS), "{t}");
        assert!(
            field(&t, "Uid:").is_some_and(|u| u.starts_with(&uid.to_string())),
            "{t}"
        );
    }
    assert_batches_flow(&sub, &agent.log());
}

#[test]
fn run_as_refuses_a_state_dir_the_user_cannot_write() {
    let Some(_) = nobody() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Root's own directory: nobody may not write there.
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let cfg = config(
        dir.path(),
        "runas2",
        &state,
        support::free_port(),
        "run_as = \"nobody\"",
    );
    let out = edgetap()
        .args(["run", "--config"])
        .arg(&cfg)
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("not writable by run_as user nobody") && err.contains("chown"),
        "{err}"
    );
}

#[test]
fn an_unprivileged_start_with_ambient_capabilities_drops_them_without_run_as() {
    let Some((uid, gid)) = nobody() else { return };
    if !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: setpriv (util-linux) not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = state_dir_for(dir.path(), uid, gid);
    let broker = Mosquitto::start();
    let sub = Subscriber::connect(broker.port(), "edgetap/ambient/edges");
    let cfg = config(dir.path(), "ambient", &state, broker.port(), "");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    // As systemd starts the unit: User= an unprivileged user, AmbientCapabilities= the DMA
    // backend's. The emulated board needs none, but the agent cannot tell: it drops them all.
    let mut cmd = Command::new("/usr/bin/setpriv");
    cmd.args([
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "--inh-caps=+sys_rawio,+sys_admin,+ipc_lock",
        "--ambient-caps=+sys_rawio,+sys_admin,+ipc_lock",
        "--",
    ])
    .arg(env!("CARGO_BIN_EXE_edgetap"))
    .args(["run", "--config"])
    .arg(&cfg);
    let mut agent = Agent::spawn(cmd, dir.path());
    let status = agent.status_after_setup();
    let log = agent.log();
    assert!(
        field(&status, "Uid:").is_some_and(|u| u.starts_with(&uid.to_string())),
        "{status}"
    );
    assert_no_capabilities(&status, &log);
    assert_batches_flow(&sub, &agent.log());
}
