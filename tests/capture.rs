//! `edgetap capture` on VCD fixtures: exactly the expected edges, each within one period after
//! the VCD change; bad input gets a clear error naming the problem.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
struct Edge {
    pin: u8,
    level: u8,
    t_us: u64,
    #[serde(default)]
    after_gap: bool,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Writes a config replaying `signal` as fast as possible from UTC 0, watching `inputs` (TOML).
fn config(dir: &Path, signal: &Path, period_us: u32, inputs: &str) -> PathBuf {
    let path = dir.join("capture.toml");
    let text = format!(
        r#"device_id = "test"
[sampler]
backend = "replay"
period_us = {period_us}
block_samples = 7
[sampler.replay]
signal = "{}"
realtime = false
start_us = 0
{inputs}
"#,
        signal.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn capture(config: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["capture", "--config"])
        .arg(config)
        .args(extra)
        .output()
        .expect("run edgetap")
}

fn edges(output: &std::process::Output) -> Vec<Edge> {
    assert!(
        output.status.success(),
        "capture failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

const BASIC_INPUTS: &str = "[[inputs]]\npin = 4\n[[inputs]]\npin = 17\n[[inputs]]\npin = 40\n";

/// (pin, level, VCD time in ns) of every real change in basic.vcd, in time order.
const BASIC_CHANGES: [(u8, u8, u64); 6] = [
    (4, 1, 2_500),
    (17, 0, 10_000),
    (40, 1, 10_001),
    (4, 0, 25_000),
    (17, 1, 40_000),
    (40, 0, 40_000),
];

#[test]
fn basic_fixture_edges_are_exact_for_several_periods() {
    let dir = tempfile::tempdir().unwrap();
    for period in [1u32, 2, 5, 7] {
        let cfg = config(dir.path(), &fixture("basic.vcd"), period, BASIC_INPUTS);
        let got = edges(&capture(&cfg, &[]));
        assert_eq!(got.len(), BASIC_CHANGES.len(), "period {period}: {got:?}");
        for (e, &(pin, level, t_ns)) in got.iter().zip(&BASIC_CHANGES) {
            assert_eq!((e.pin, e.level), (pin, level), "period {period}: {got:?}");
            // The first sample at or after the change, i.e. within one period after it.
            let expected = t_ns.div_ceil(1000 * u64::from(period)) * u64::from(period);
            assert_eq!(e.t_us, expected, "period {period}: {e:?}");
        }
    }
}

#[test]
fn glitch_filter_keeps_only_stable_levels_with_their_original_time() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &fixture("bouncy.vcd"),
        1,
        "[[inputs]]\npin = 5\nglitch_us = 50\n",
    );
    let got = edges(&capture(&cfg, &[]));
    assert_eq!(
        got,
        vec![
            Edge {
                pin: 5,
                level: 1,
                t_us: 105,
                after_gap: false
            },
            Edge {
                pin: 5,
                level: 0,
                t_us: 1002,
                after_gap: false
            },
        ]
    );
    // Unfiltered, every bounce is there.
    let cfg = config(
        dir.path(),
        &fixture("bouncy.vcd"),
        1,
        "[[inputs]]\npin = 5\n",
    );
    assert_eq!(edges(&capture(&cfg, &[])).len(), 6);
}

#[test]
fn duration_limits_signal_time_and_file_output_works() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 1, BASIC_INPUTS);
    let out = dir.path().join("edges.jsonl");
    let run = capture(
        &cfg,
        &["--duration", "0.000020", "--out", out.to_str().unwrap()],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let got: Vec<Edge> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Samples at 0..20 µs (exclusive) only: the changes at 2.5, 10 and 10.001 µs.
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|e| e.t_us < 20));
}

#[test]
fn vcd_output_round_trips_through_capture() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 1, BASIC_INPUTS);
    let vcd = dir.path().join("out.vcd");
    let run = capture(&cfg, &["--format", "vcd", "--out", vcd.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Capturing the captured VCD gives the same edges (time 0 = first sample = UTC 0 here).
    let cfg2 = config(dir.path(), &vcd, 1, BASIC_INPUTS);
    let direct = edges(&capture(
        &config(dir.path(), &fixture("basic.vcd"), 1, BASIC_INPUTS),
        &[],
    ));
    let again = edges(&capture(&cfg2, &[]));
    assert_eq!(again, direct);
}

#[test]
fn malformed_vcd_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &fixture("broken.vcd"),
        1,
        "[[inputs]]\npin = 5\n",
    );
    let out = capture(&cfg, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.vcd") && err.contains("line 9"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_signal_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &dir.path().join("nope.vcd"),
        1,
        "[[inputs]]\npin = 5\n",
    );
    let out = capture(&cfg, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.vcd"), "{err}");
}

#[test]
fn malformed_config_and_unknown_pin_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &fixture("basic.vcd"),
        1,
        "[[inputs]]\npin = 77\n",
    );
    let out = capture(&cfg, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inputs[0].pin") && err.contains("not a GPIO"),
        "{err}"
    );

    std::fs::write(&cfg, "device_id = \"x\"\n[sampler\n").unwrap();
    let out = capture(&cfg, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot load config"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn config_check_prints_effective_config_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let out = Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["config", "check"])
        .arg(&cfg)
        .args(["--set", "mqtt.port=1999", "--set", "mqtt.password=hunter2"])
        .env("EDGETAP__BATCH__MAX_EDGES", "77")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("valid"), "{text}");
    assert!(text.contains("port = 1999"), "{text}");
    assert!(text.contains("max_edges = 77"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password must never be printed: {text}"
    );
}

#[test]
fn shipped_configs_are_valid() {
    for name in ["default.toml", "demo.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config")
            .join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_edgetap"))
            .args(["config", "check"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_reader_that_goes_away_is_not_a_crash() {
    // `edgetap config check FILE | head -1`: the pipe closes before everything is written.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["config", "check"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// The demo's inputs: a glitch filter on 17 releases its edges up to 1 ms late, stamped with
/// their original time, while 18 toggles every 500 µs.
const DEMO_INPUTS: &str = "[[inputs]]\npin = 17\nglitch_us = 1000\n[[inputs]]\npin = 18\n\
[[inputs]]\npin = 27\nlockout_us = 50000\n";

#[test]
fn vcd_capture_of_pins_with_a_glitch_filter_is_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let signal = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/signals/demo.vcd");
    let cfg = config(dir.path(), &signal, 5, DEMO_INPUTS);
    let vcd = dir.path().join("demo.vcd");
    let run = capture(
        &cfg,
        &[
            "--format",
            "vcd",
            "--duration",
            "3",
            "--out",
            vcd.to_str().unwrap(),
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Captured again from the VCD (no filters): the same edges as the JSON lines, in time order.
    let jsonl = edges(&capture(&cfg, &["--duration", "3"]));
    assert!(jsonl.iter().any(|e| e.pin == 17) && jsonl.iter().any(|e| e.pin == 18));
    assert!(
        jsonl.windows(2).all(|w| w[0].t_us <= w[1].t_us),
        "JSON lines are not in time order across pins"
    );
    let plain = "[[inputs]]\npin = 17\n[[inputs]]\npin = 18\n[[inputs]]\npin = 27\n";
    let again = edges(&capture(&config(dir.path(), &vcd, 5, plain), &[]));
    assert_eq!(again.len(), jsonl.len());
}

#[test]
fn the_output_format_follows_the_file_extension_and_a_contradiction_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 1, BASIC_INPUTS);
    let vcd = dir.path().join("out.vcd");
    let run = capture(&cfg, &["--out", vcd.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&vcd).unwrap();
    assert!(text.contains("$enddefinitions"), "not a VCD: {text}");

    let jsonl = dir.path().join("out.jsonl");
    let run = capture(&cfg, &["--out", jsonl.to_str().unwrap()]);
    assert!(run.status.success());
    assert!(std::fs::read_to_string(&jsonl).unwrap().starts_with('{'));

    let run = capture(&cfg, &["--format", "jsonl", "--out", vcd.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        err.contains("--format jsonl") && err.contains(".vcd"),
        "{err}"
    );
}

#[test]
fn a_signal_that_drives_none_of_the_watched_pins_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("bus.vcd");
    std::fs::write(
        &signal,
        "$timescale 1 us $end\n$scope module m $end\n$var wire 1 ! clk $end\n\
         $var wire 1 \" data $end\n$upscope $end\n$enddefinitions $end\n#0\n0!\n#5\n1!\n#10\n",
    )
    .unwrap();
    let cfg = config(dir.path(), &signal, 1, "[[inputs]]\npin = 17\n");
    let run = capture(&cfg, &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("WARN"), "{err}");
    assert!(err.contains("clk, data") && err.contains("gpio17"), "{err}");
}

#[test]
fn environment_values_are_typed_by_their_key_and_strays_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let check = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_edgetap"));
        cmd.args(["config", "check"]).arg(&cfg);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = check(&[
        ("EDGETAP__MQTT__PASSWORD", "98765432"),
        ("EDGETAP__DEVICE_ID", "12345"),
        ("EDGETAP__MQTT__USERNAME", "0123"),
        ("EDGETAP_MQTT__PORT", "1999"),
    ]);
    let (text, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{err}");
    assert!(text.contains("device_id = \"12345\""), "{text}");
    assert!(text.contains("username = \"0123\""), "{text}");
    assert!(
        !text.contains("98765432") && !err.contains("98765432"),
        "{text}{err}"
    );
    assert!(
        err.contains("EDGETAP_MQTT__PORT"),
        "a stray variable must be warned about: {err}"
    );
    assert!(!text.contains("port = 1999"), "{text}");

    let out = check(&[("EDGETAP__MQTT__PORT", "18x")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("mqtt.port") && err.contains("environment variable EDGETAP__MQTT__PORT"),
        "{err}"
    );
}

#[test]
fn stats_keys_named_in_the_default_config_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join("config/default.toml")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let named: Vec<&str> = config
        .split("(stats:")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter_map(|inner| {
            inner
                .split(|c: char| c == '#' || c.is_whitespace())
                .rfind(|w| !w.is_empty())
        })
        .collect();
    assert!(!named.is_empty());
    for key in named {
        assert!(
            readme.contains(&format!("\"{key}\":")),
            "stats has no key `{key}`"
        );
    }
}

#[test]
fn a_pin_off_the_40_pin_header_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let run = capture(&cfg, &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains("inputs[2].pin: GPIO 40 is not on the 40-pin header"),
        "{err}"
    );
    assert!(!err.contains("GPIO 17 is not"), "{err}");
}

#[test]
fn config_check_shows_the_remote_layer_and_marks_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let state = dir.path().join("state");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text = text.replacen(
        "device_id = \"test\"",
        &format!("device_id = \"test\"\nstate_dir = \"{}\"", state.display()),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("remote-config.json"),
        r#"{"version":3,"patch":{"batch":{"max_edges":64}}}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["config", "check"])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("max_edges = 64  # remote"), "{text}");
    assert!(
        text.contains("version 3") && text.contains("batch.max_edges"),
        "{text}"
    );
    assert!(text.contains("device_id = \"test\""), "{text}");
    assert!(text.contains(&state.display().to_string()), "{text}");
}

#[test]
fn config_reset_remote_drops_a_remote_layer_stuck_at_the_largest_version() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let state = dir.path().join("state");
    let text = std::fs::read_to_string(&cfg).unwrap().replacen(
        "device_id = \"test\"",
        &format!("device_id = \"test\"\nstate_dir = \"{}\"", state.display()),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("remote-config.json"),
        r#"{"version":18446744073709551615,"patch":{"batch":{"max_edges":64}}}"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_edgetap"))
            .args(args)
            .arg(&cfg)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = run(&["config", "reset-remote"]);
    assert!(said.contains("version 18446744073709551615"), "{said}");
    assert!(!state.join("remote-config.json").exists());
    assert!(state.join("remote-config.json.reset").exists());
    let check = run(&["config", "check"]);
    assert!(check.contains("remote layer: none"), "{check}");
    assert!(!check.contains("max_edges = 64"), "{check}");
    let again = run(&["config", "reset-remote"]);
    assert!(again.contains("nothing to reset"), "{again}");
}

#[test]
fn a_port_in_use_is_said_once_with_the_override_that_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let extra = format!(
        "state_dir = \"{}\"\n{BASIC_INPUTS}[mqtt]\nhost = \"127.0.0.1\"\nport = {port}\n\
         embedded_broker = true\n",
        dir.path().join("state").display()
    );
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    // Top-level keys must precede the first table.
    let text = text.replacen(
        "[sampler]",
        &format!("{}\n[sampler]", extra.lines().next().unwrap()),
        1,
    ) + &extra.lines().skip(1).collect::<Vec<_>>().join("\n");
    std::fs::write(&cfg, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    assert!(err.contains("--set mqtt.port="), "{err}");
    drop(taken);
}

#[test]
fn a_value_out_of_range_is_explained_without_rust_type_names() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let out = Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["config", "check"])
        .arg(&cfg)
        .args(["--set", "sampler.dma_channel=300"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("sampler.dma_channel"), "{err}");
    assert!(!err.contains("u8"), "{err}");
    assert!(
        err.contains("0 to 255") && err.contains("--set sampler.dma_channel="),
        "{err}"
    );
}

#[test]
fn run_refuses_a_state_dir_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let state = blocker.join("state");
    let cfg = config(dir.path(), &fixture("basic.vcd"), 5, BASIC_INPUTS);
    let text = std::fs::read_to_string(&cfg).unwrap().replacen(
        "device_id = \"test\"",
        &format!("device_id = \"test\"\nstate_dir = \"{}\"", state.display()),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    // Bounded: an agent that starts anyway would wait for its unreachable broker for ever.
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgetap"))
        .args(["run", "--config"])
        .arg(&cfg)
        .args(["--set", "mqtt.port=1", "--set", "mqtt.host=127.0.0.1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let started_anyway = child.try_wait().unwrap().is_none();
    if started_anyway {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !started_anyway,
        "the agent started without a usable state_dir: {err}"
    );
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&state.display().to_string()) && err.contains("permission"),
        "{err}"
    );
    assert!(err.contains("spool.enabled = false"), "{err}");
}

/// Writes `ms` of a binary counter on GPIO 2–15, one count every 50 µs, so any gap of 50 µs or
/// more hides a change.
fn counter_signal(dir: &Path, ms: u64) -> PathBuf {
    let mut b = edgetap::vcd::TraceBuilder::new();
    for pin in 2..=15 {
        b.drive(pin);
    }
    for n in 1..=ms * 20 {
        let t_fs = u128::from(n * 50) * edgetap::vcd::FS_PER_US;
        for bit in (0..14u8).filter(|&k| (n ^ (n - 1)) >> k & 1 == 1) {
            b.change(t_fs, 2 + bit, (n >> bit & 1) as u8);
        }
    }
    b.end_at(u128::from(ms * 1000) * edgetap::vcd::FS_PER_US);
    let path = dir.join("counter.vcd");
    let file = std::fs::File::create(&path).unwrap();
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).unwrap();
    path
}

#[test]
fn json_lines_mark_the_edges_after_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let sig = counter_signal(dir.path(), 200);
    let inputs: String = (2..=15)
        .map(|p| format!("[[inputs]]\npin = {p}\n"))
        .collect();
    let path = dir.path().join("capture.toml");
    let text = format!(
        r#"device_id = "test"
[sampler]
backend = "emulated"
period_us = 5
block_samples = 100
buffer_ms = 5
[sampler.emulated]
board = "pi3"
signal = "{}"
realtime = false
start_us = 0
[sampler.emulated.faults]
consumer_stall_ms = 20
consumer_stall_after_ms = 50
{inputs}"#,
        sig.display()
    );
    std::fs::write(&path, text).unwrap();
    let out = capture(&path, &["--duration", "0.15"]);
    let got = edges(&out);
    let marked: Vec<&Edge> = got.iter().filter(|e| e.after_gap).collect();
    assert!(
        !marked.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // All at one instant: the first sample after the stall's gap.
    assert!(
        marked.iter().all(|e| e.t_us == marked[0].t_us),
        "{marked:?}"
    );
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.lines().any(|l| l.ends_with(",\"after_gap\":true}")));
    assert!(line.lines().filter(|l| !l.contains("after_gap")).count() > 1000);
}
