//! Running the `edgetap` binary as a child process: start, signal, wait with a bound.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The edgetap binary built for this test run.
pub fn edgetap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgetap"))
}

/// Writes `<dir>/<device>.toml`: an agent on the emulated board (real time, a looping 10 s demo
/// signal, pins 17 and 18) publishing to 127.0.0.1:`port`, its state in `state`, with `top`
/// (top-level keys) and `tail` (whole tables) added.
pub fn emulated_config(
    dir: &Path,
    device: &str,
    state: &Path,
    port: u16,
    top: &str,
    tail: &str,
) -> PathBuf {
    let signal = demo_signal(dir, 10);
    let path = dir.join(format!("{device}.toml"));
    let text = format!(
        r#"device_id = "{device}"
state_dir = "{state}"
{top}
[sampler]
backend = "emulated"
period_us = 20
block_samples = 500
[sampler.emulated]
signal = "{signal}"
loop = true
[[inputs]]
pin = 17
[[inputs]]
pin = 18
[batch]
max_age_ms = 100
[homeassistant]
enabled = false
[mqtt]
port = {port}
keep_alive_s = 5
reconnect_min_ms = 50
reconnect_max_ms = 500
{tail}
"#,
        state = state.display(),
        signal = signal.display(),
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Writes the demo signal (`seconds` long) into `dir` and returns its path.
pub fn demo_signal(dir: &Path, seconds: u64) -> PathBuf {
    let path = dir.join("demo.vcd");
    let out = edgetap()
        .args(["signal", "demo", "--seconds", &seconds.to_string(), "--out"])
        .arg(&path)
        .output()
        .expect("run edgetap signal demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A running `edgetap run`, killed on drop if still running. Its output goes to files so a
/// chatty agent can never block on a full pipe.
pub struct AgentProcess {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

/// How an agent process ended.
pub struct Exit {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it logged on stderr.
    pub stderr: String,
}

impl AgentProcess {
    /// Starts `edgetap run --config <config>` with `args`, capturing stdout and stderr.
    pub fn start(config: &Path, args: &[&str]) -> AgentProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let stdout = File::create(dir.path().join("stdout")).expect("stdout file");
        let child = Self::spawn(config, args, &dir, stdout.into());
        AgentProcess {
            child: Some(child),
            dir,
        }
    }

    /// Like [`AgentProcess::start`], but stdout is a pipe whose reader is gone at once, as in
    /// `edgetap run | head -1` after `head` exited.
    pub fn start_with_closed_stdout(config: &Path, args: &[&str]) -> AgentProcess {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Self::spawn(config, args, &dir, Stdio::piped());
        drop(child.stdout.take());
        AgentProcess {
            child: Some(child),
            dir,
        }
    }

    fn spawn(config: &Path, args: &[&str], dir: &tempfile::TempDir, stdout: Stdio) -> Child {
        let stderr = File::create(dir.path().join("stderr")).expect("stderr file");
        edgetap()
            .args(["run", "--config"])
            .arg(config)
            .args(args)
            .env("RUST_LOG", "edgetap=debug")
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawn edgetap run")
    }

    /// What the agent logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends a signal by name (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits up to `timeout` for the process to exit; kills it and panics if it does not.
    pub fn wait(mut self, timeout: Duration) -> Exit {
        let mut child = self.child.take().expect("child present");
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "edgetap did not exit within {timeout:?}; stderr:\n{}",
                        self.stderr()
                    );
                }
            }
        };
        Exit {
            status,
            stdout: std::fs::read_to_string(self.dir.path().join("stdout")).unwrap_or_default(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The edges `edgetap capture --config <config> <args>` prints (JSON lines, as `T`) and what it
/// logged; panics if it fails.
pub fn capture_edges<T: serde::de::DeserializeOwned>(
    config: &Path,
    args: &[&str],
) -> (Vec<T>, String) {
    let out = edgetap()
        .args(["capture", "--config"])
        .arg(config)
        .args(args)
        .env("RUST_LOG", "edgetap=info")
        .output()
        .expect("run edgetap capture");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let edges = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect();
    (edges, stderr)
}

/// `key=N` from the last log line containing `what` (e.g. the closing "agent stopped" line).
pub fn logged(log: &str, what: &str, key: &str) -> u64 {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no `{what}` line in:\n{log}"));
    let at = line
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("{key} not in {line}"));
    line[at + key.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} not a number in {line}"))
}
