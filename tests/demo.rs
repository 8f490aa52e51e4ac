//! Demo smoke test: `config/demo.toml` runs for a few seconds on its embedded broker and a
//! subscriber receives edges; the live summary is printed; Ctrl-C stops it cleanly; a closed
//! stdout stops the summary, not the agent.

mod support;

use std::path::Path;
use std::time::Duration;

use support::agent::AgentProcess;
use support::{free_port, wait_for_port, Subscriber};

/// The demo, started by `start` on its embedded broker at a free port with a state_dir of its
/// own (remote changes someone made to the demo must not leak into the test), summarising every
/// second; waits until the broker listens. Returns the agent, the port and the state_dir guard.
fn start_demo(start: fn(&Path, &[&str]) -> AgentProcess) -> (AgentProcess, u16, tempfile::TempDir) {
    let port = free_port();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml");
    let port_arg = format!("mqtt.port={port}");
    let state = tempfile::tempdir().unwrap();
    let state_arg = format!("state_dir={}", state.path().display());
    let args = [
        "--set",
        &port_arg,
        "--set",
        &state_arg,
        "--summary-every",
        "1",
    ];
    let agent = start(&config, &args);
    assert!(
        wait_for_port(port, Duration::from_secs(10)),
        "embedded broker did not listen:\n{}",
        agent.stderr()
    );
    (agent, port, state)
}

#[test]
fn demo_publishes_edges_on_its_embedded_broker() {
    let (mut agent, port, _state) = start_demo(AgentProcess::start);
    let sub = Subscriber::connect(port, "edgetap/#");
    let edges = sub
        .wait_for(|m| m.topic == "edgetap/demo/edges", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no edges from the demo:\n{}", agent.stderr()));
    let batch: serde_json::Value = serde_json::from_slice(&edges.payload).unwrap();
    assert_eq!(batch["v"], 1);
    assert_eq!(batch["device"], "demo");
    assert!(batch["edges"].as_array().is_some_and(|e| !e.is_empty()));
    // Let the summary print at least once.
    std::thread::sleep(Duration::from_millis(2200));
    assert!(agent.is_running());
    agent.signal("INT");
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(
        exit.stdout.contains("edges/s:"),
        "no summary: {}",
        exit.stdout
    );
    assert!(exit.stdout.contains("gpio18="), "{}", exit.stdout);
}

#[test]
fn a_closed_stdout_stops_the_summary_not_the_agent() {
    let (mut agent, port, _state) = start_demo(AgentProcess::start_with_closed_stdout);
    // Past the first summaries, which find stdout gone.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(agent.is_running(), "{}", agent.stderr());
    let sub = Subscriber::connect(port, "edgetap/demo/edges");
    sub.wait_for(|_| true, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no edges after stdout closed:\n{}", agent.stderr()));
    agent.signal("INT");
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(!exit.stderr.contains("panicked"), "{}", exit.stderr);
    assert!(
        exit.stderr.contains("live summary stopped"),
        "{}",
        exit.stderr
    );
}
