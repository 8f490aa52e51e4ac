//! `edgetap selftest` on the emulated boards: a finite chain, every word checked, the channel
//! stopped, the memory given back; and a plain FAIL line with a non-zero exit when it cannot.
//! With `--loopback`: pulses driven on a wired output pin, seen (or lost) on the input, and the
//! output's function restored however the selftest ends.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use edgetap::config::BoardKind;
use edgetap::emu::{EmuOptions, Emulator, Mode};
use edgetap::hw::gpio_out::{self, Function};
use edgetap::hw::mmio::PhysMem;
use support::agent::{demo_signal, edgetap};

/// Runs `edgetap selftest` on an emulated `board` (lock-step) with extra `--set`s.
fn selftest(dir: &Path, board: &str, sets: &[&str]) -> (bool, String) {
    selftest_args(dir, board, sets, &[])
}

/// Runs `edgetap selftest` on an emulated `board` (lock-step) with extra `--set`s and `args`.
fn selftest_args(dir: &Path, board: &str, sets: &[&str], args: &[&str]) -> (bool, String) {
    let signal = demo_signal(dir, 1);
    let config = dir.join(format!("{board}.toml"));
    std::fs::write(
        &config,
        format!(
            "device_id = \"t\"\nstate_dir = \"{}\"\n[sampler]\nbackend = \"emulated\"\n\
             [sampler.emulated]\nboard = \"{board}\"\nrealtime = false\nsignal = \"{}\"\n\
             [[inputs]]\npin = 17\n",
            dir.join("state").display(),
            signal.display()
        ),
    )
    .expect("write config");
    let mut cmd = edgetap();
    cmd.args(["selftest", "--config"]).arg(&config);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.args(args);
    let out = cmd.output().expect("run selftest");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_selftest_passes_on_every_emulated_board() {
    for board in ["pi1", "pi3", "pi4"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ok, out) = selftest(dir.path(), board, &[]);
        assert!(ok, "{board}:\n{out}");
        assert_eq!(out.lines().last(), Some("selftest: ok"), "{board}:\n{out}");
        for what in ["board", "memory", "channel", "layout", "timer", "release"] {
            assert!(
                out.lines().any(|l| l.starts_with(&format!("ok   {what}"))),
                "{board}: no passing {what} line:\n{out}"
            );
        }
    }
}

#[test]
fn a_failing_selftest_says_what_failed_and_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Channel 12 is a DMA4 engine on the BCM2711: the legacy chain cannot run there.
    let (ok, out) = selftest(dir.path(), "pi4", &["sampler.dma_channel=12"]);
    assert!(!ok, "{out}");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with("selftest: FAIL channel"), "{out}");
}

/// The loopback selftest on an emulated `board` wired GPIO 18 → GPIO 17, with extra `--set`s.
fn loopback(board: &str, sets: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = vec!["sampler.emulated.loopback=[[18, 17]]"];
    all.extend_from_slice(sets);
    selftest_args(dir.path(), board, &all, &["--loopback", "18:17"])
}

/// The line of check `what`, or a panic showing the whole report.
fn line<'a>(out: &'a str, what: &str) -> &'a str {
    out.lines()
        .find(|l| l[4..].trim_start().starts_with(what))
        .unwrap_or_else(|| panic!("no {what} line:\n{out}"))
}

#[test]
fn the_loopback_selftest_passes_on_a_wired_emulated_board() {
    for board in ["pi1", "pi3", "pi4"] {
        let (ok, out) = loopback(board, &[]);
        assert!(ok, "{board}:\n{out}");
        assert_eq!(out.lines().last(), Some("selftest: ok"), "{board}:\n{out}");
        for what in [
            "loopback", "capture", "output", "pulses", "timing", "restore",
        ] {
            assert!(
                line(&out, what).starts_with("ok"),
                "{board}: {what}:\n{out}"
            );
        }
        assert!(
            line(&out, "pulses").contains("40 of 40 pulses seen, 0 missed, 0 extra"),
            "{out}"
        );
        assert!(
            line(&out, "restore").contains("GPIO 18 is input again (it was input)"),
            "{out}"
        );
        // The default period is 5 µs: every edge is seen within it (the bound is 15 µs).
        let timing = line(&out, "timing");
        let max: u64 = timing
            .split("max ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no max in {timing}"));
        assert!(max <= 5, "{timing}");
    }
}

#[test]
fn pulses_lost_on_the_wire_fail_the_loopback_selftest() {
    let (ok, out) = loopback("pi4", &["sampler.emulated.faults.loopback_drop_every=7"]);
    assert!(!ok, "{out}");
    // The wire lost pulses 7, 14, 21, 28 and 35; the output pin itself had them all.
    assert!(line(&out, "output").starts_with("ok"), "{out}");
    let pulses = line(&out, "pulses");
    assert!(
        pulses.starts_with("FAIL")
            && pulses.contains("35 of 40 pulses seen, 5 missed")
            && pulses.contains("#7 #14 #21 #28 #35"),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .is_some_and(|l| l.starts_with("selftest: FAIL pulses")),
        "{out}"
    );
    assert!(line(&out, "restore").starts_with("ok"), "{out}");
}

#[test]
fn an_unwired_loopback_says_what_to_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ok, out) = selftest_args(dir.path(), "pi4", &[], &["--loopback", "18:17"]);
    assert!(!ok, "{out}");
    let pulses = line(&out, "pulses");
    assert!(
        pulses.contains("0 of 40 pulses seen")
            && pulses.contains("is GPIO 18 wired to it?")
            && pulses.contains("sampler.emulated.loopback = [[18, 17]]"),
        "{out}"
    );
}

/// Starts `edgetap selftest --loopback 18:17` attached to a realtime emulated Pi 4 wired 18 → 17
/// (slow pulses: a period of 1 ms), waits until GPIO 18 is an output, sends `sig`; returns how
/// the process ended, what it printed, and GPIO 18's function afterwards.
fn interrupted_loopback(sig: i32) -> (std::process::ExitStatus, String, Function) {
    let dir = tempfile::tempdir().expect("tempdir");
    let signal = edgetap::vcd::read_file(&demo_signal(dir.path(), 1)).expect("signal");
    let mem = dir.path().join("board");
    let _emu = Emulator::start(EmuOptions {
        board: BoardKind::Pi4,
        mem: Some(mem.clone()),
        signal: Some(signal),
        loop_signal: true,
        mode: Mode::Realtime,
        start_utc_us: None,
        faults: Default::default(),
        cb_cost_ns: edgetap::emu::cb_cost_ns(BoardKind::Pi4),
        loopback: vec![[18, 17]],
    })
    .expect("emulator");
    let config = dir.path().join("attach.toml");
    std::fs::write(
        &config,
        format!(
            "device_id = \"t\"\nstate_dir = \"{}\"\n[sampler]\nbackend = \"emulated\"\n\
             period_us = 1000\nblock_samples = 100\nbuffer_ms = 1000\n[sampler.emulated]\n\
             mem = \"{}\"\n[[inputs]]\npin = 17\n",
            dir.path().join("state").display(),
            mem.display()
        ),
    )
    .expect("write config");
    let stdout = dir.path().join("stdout");
    let mut child = edgetap()
        .args(["selftest", "--loopback", "18:17", "--config"])
        .arg(&config)
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn selftest");
    let pm = PhysMem::open(&mem).expect("open board");
    let header = edgetap::emu::read_header(&pm).expect("header");
    let gpio = gpio_out::map(&pm, header.periph_base).expect("map gpio");
    let deadline = Instant::now() + Duration::from_secs(20);
    while gpio_out::function(&gpio, 18) != Function::Output {
        assert!(Instant::now() < deadline, "GPIO 18 never became an output");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "ended before driving"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Well inside the pulses (about 1.5 s of them).
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("selftest did not end after signal {sig}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = std::fs::read_to_string(&stdout).unwrap_or_default();
    (status, out, gpio_out::function(&gpio, 18))
}

#[test]
fn a_signal_that_ends_the_loopback_selftest_gives_the_pin_its_function_back() {
    use std::os::unix::process::ExitStatusExt;
    // SIGHUP ends the process from its handler: only the handler can restore the pin.
    let (status, out, function) = interrupted_loopback(libc::SIGHUP);
    assert_eq!(status.signal(), Some(libc::SIGHUP), "{out}");
    assert_eq!(function, Function::Input, "{out}");
}

#[test]
fn an_interrupted_loopback_selftest_fails_and_restores_the_pin() {
    let (status, out, function) = interrupted_loopback(libc::SIGTERM);
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(line(&out, "capture").contains("interrupted"), "{out}");
    assert!(line(&out, "restore").starts_with("ok"), "{out}");
    assert_eq!(function, Function::Input, "{out}");
}
