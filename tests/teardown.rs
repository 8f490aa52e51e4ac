//! Teardown cannot be skipped: an agent process sampling the emulated board is stopped by
//! SIGTERM, SIGINT or a panic, and the emulator (in this test process) must see the DMA channel
//! stopped before the agent releases the channel's memory. Also: `edgetap check` on a non-Pi,
//! and an agent attached to a separate `edgetap emulator` process.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use edgetap::config::BoardKind;
use edgetap::emu::{EmuEvent, EmuOptions, Emulator, Mode};

use support::agent::{demo_signal, edgetap};

/// A config sampling the board file `mem` (attached, realtime) on GPIO 17 and 18.
fn attach_config(dir: &Path, mem: &Path) -> PathBuf {
    let path = dir.join("attach.toml");
    let text = format!(
        r#"device_id = "t"
state_dir = "{}"
[sampler]
backend = "emulated"
period_us = 5
block_samples = 200
buffer_ms = 20
[sampler.emulated]
mem = "{}"
[[inputs]]
pin = 17
[[inputs]]
pin = 18
"#,
        dir.join("state").display(),
        mem.display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Waits (bounded) for a child to exit; if it does not, kills it and panics with `context()`
/// (what it logged, what the emulator saw), so a hang says where it hung.
fn wait_exit(
    child: &mut Child,
    limit: Duration,
    context: impl Fn() -> String,
) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("child did not exit within {limit:?}:\n{}", context());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An emulated Pi 4 in its own thread, looping the demo signal on the board file `<dir>/board`.
fn looping_pi4(dir: &std::path::Path) -> (Emulator, std::path::PathBuf) {
    let signal = edgetap::vcd::read_file(&demo_signal(dir, 2)).expect("signal");
    let mem = dir.join("board");
    let emu = Emulator::start(EmuOptions {
        board: BoardKind::Pi4,
        mem: Some(mem.clone()),
        signal: Some(signal),
        loop_signal: true,
        mode: Mode::Realtime,
        start_utc_us: None,
        faults: Default::default(),
        cb_cost_ns: edgetap::emu::cb_cost_ns(BoardKind::Pi4),
        loopback: Vec::new(),
    })
    .expect("emulator");
    (emu, mem)
}

fn teardown_is_observed(how: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (emu, mem) = looping_pi4(dir.path());
    let config = attach_config(dir.path(), &mem);
    let mut cmd = edgetap();
    cmd.args(["capture", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("edges.jsonl"))
        // A file, not a pipe nobody reads: a chatty child must never block on a full pipe.
        .stderr(std::fs::File::create(dir.path().join("stderr")).expect("stderr file"));
    match how {
        "panic" => drop(cmd.args(["--panic-after", "0.5"])),
        "end" => drop(cmd.args(["--duration", "0.5"])),
        _ => {}
    }
    let mut child = cmd.spawn().expect("spawn capture");
    let started = emu.wait_for(
        |e| matches!(e, EmuEvent::ChannelStarted { .. }),
        Duration::from_secs(10),
    );
    assert!(
        started.is_some(),
        "the agent never started its channel: {:?}",
        emu.events()
    );
    std::thread::sleep(Duration::from_millis(300));
    match how {
        "SIGTERM" => unsafe_kill(child.id(), libc::SIGTERM),
        "SIGINT" => unsafe_kill(child.id(), libc::SIGINT),
        _ => {}
    }
    let stderr = dir.path().join("stderr");
    let status = wait_exit(&mut child, Duration::from_secs(10), || {
        let log = std::fs::read_to_string(&stderr).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let events = emu.events();
        let last: Vec<_> = events.iter().rev().take(20).collect();
        format!("{how}: last log lines (newest first): {tail:#?}\nlast emulator events: {last:?}")
    });
    if how == "panic" {
        assert!(!status.success(), "a panic must not exit 0");
    } else {
        assert!(status.success(), "{how}: clean exit expected, got {status}");
    }
    let released = emu.wait_for(
        |e| matches!(e, EmuEvent::MemReleased { .. }),
        Duration::from_secs(5),
    );
    let events: Vec<EmuEvent> = emu.events().into_iter().map(|(_, e)| e).collect();
    let stop = events
        .iter()
        .position(|e| matches!(e, EmuEvent::ChannelStopped { .. }));
    let release = events
        .iter()
        .position(|e| matches!(e, EmuEvent::MemReleased { .. }));
    assert!(
        released.is_some(),
        "{how}: memory never released: {events:?}"
    );
    assert!(
        stop.is_some() && stop < release,
        "{how}: channel must stop before its memory is released: {events:?}"
    );
    assert!(
        matches!(released, Some(EmuEvent::MemReleased { ref running_inside, .. }) if running_inside.is_empty()),
        "{how}: a channel was still running in the released memory: {events:?}"
    );
}

/// A child killed when the test ends, even by a failed assertion: a looping emulator must not
/// outlive its test.
struct KilledOnDrop(Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `sig` to `pid`.
fn unsafe_kill(pid: u32, sig: i32) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn sigterm_stops_the_channel_before_memory_is_released() {
    teardown_is_observed("SIGTERM");
}

#[test]
fn sigint_stops_the_channel_before_memory_is_released() {
    teardown_is_observed("SIGINT");
}

#[test]
fn a_normal_end_stops_the_channel_before_memory_is_released() {
    // No signal handler helps here: only the drop order of the sampler does.
    teardown_is_observed("end");
}

#[test]
fn a_panic_stops_the_channel_before_memory_is_released() {
    teardown_is_observed("panic");
}

#[test]
fn check_says_plainly_that_this_is_not_a_pi() {
    let out = edgetap().arg("check").output().expect("run check");
    let text = String::from_utf8_lossy(&out.stdout);
    // A FAIL line means a non-zero exit, so scripts and provisioning can rely on it.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL board"), "{text}");
    assert!(text.contains("not a Raspberry Pi"), "{text}");
    assert!(text.contains("backend = \"emulated\""), "{text}");
    for what in ["DMA memory", "privileges", "/dev/mem"] {
        assert!(text.contains(what), "check must report {what}: {text}");
    }
}

#[test]
fn an_agent_attaches_to_a_separate_emulator_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signal = demo_signal(dir.path(), 2);
    let mem = dir.path().join("board");
    let mut emulator = KilledOnDrop(
        edgetap()
            .args(["emulator", "--board", "pi3", "--loop", "--mem"])
            .arg(&mem)
            .arg("--signal")
            .arg(&signal)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn emulator"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while edgetap::hw::mmio::PhysMem::open(&mem)
        .ok()
        .and_then(|m| edgetap::emu::read_header(&m).ok())
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the emulator never wrote its board file"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = attach_config(dir.path(), &mem);
    // Files, not pipes, and a bounded wait: a capture that hangs fails the test, saying why.
    let (out, err) = (dir.path().join("edges.jsonl"), dir.path().join("stderr"));
    let mut capture = edgetap()
        .args(["capture", "--duration", "0.3", "--config"])
        .arg(&config)
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("spawn capture");
    let log = || std::fs::read_to_string(&err).unwrap_or_default();
    let captured = wait_exit(&mut capture, Duration::from_secs(10), log);
    unsafe_kill(emulator.0.id(), libc::SIGTERM);
    let status = wait_exit(&mut emulator.0, Duration::from_secs(10), String::new);
    assert!(status.success(), "emulator exit: {status}");
    assert!(captured.success(), "{}", log());
    let edges = std::fs::read_to_string(&out).unwrap_or_default();
    let on18 = edges.lines().filter(|l| l.contains("\"pin\":18")).count();
    // 1 kHz on GPIO 18: two edges per ms, about 600 in 0.3 s.
    assert!(
        (500..=700).contains(&on18),
        "edges on GPIO 18 in 0.3 s: {on18}"
    );
}

/// A crash signal (a fault, or `abort`): the handler stops the channel with register writes,
/// then the signal's default action ends the process as it would have.
fn a_crash_signal_stops_the_channel(sig: i32) {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let (emu, mem) = looping_pi4(dir.path());
    let config = attach_config(dir.path(), &mem);
    let stderr = dir.path().join("stderr");
    let mut child = edgetap()
        .args(["capture", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("edges.jsonl"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("spawn capture");
    let started = emu.wait_for(
        |e| matches!(e, EmuEvent::ChannelStarted { .. }),
        Duration::from_secs(10),
    );
    assert!(started.is_some(), "never started: {:?}", emu.events());
    std::thread::sleep(Duration::from_millis(200));
    unsafe_kill(child.id(), sig);
    let status = wait_exit(&mut child, Duration::from_secs(10), || {
        std::fs::read_to_string(&stderr).unwrap_or_default()
    });
    assert_eq!(
        status.signal(),
        Some(sig),
        "the signal still ends the process"
    );
    let stopped = emu.wait_for(
        |e| matches!(e, EmuEvent::ChannelStopped { .. }),
        Duration::from_secs(2),
    );
    assert!(
        stopped.is_some(),
        "signal {sig}: the process died with its channel running: {:?}",
        emu.events()
    );
}

#[test]
fn sigbus_stops_the_channel() {
    a_crash_signal_stops_the_channel(libc::SIGBUS);
}

#[test]
fn sigsegv_stops_the_channel() {
    a_crash_signal_stops_the_channel(libc::SIGSEGV);
}

#[test]
fn sigabrt_stops_the_channel() {
    a_crash_signal_stops_the_channel(libc::SIGABRT);
}

#[test]
fn sigill_stops_the_channel() {
    a_crash_signal_stops_the_channel(libc::SIGILL);
}

#[test]
fn sigfpe_stops_the_channel() {
    a_crash_signal_stops_the_channel(libc::SIGFPE);
}

/// CS and CONBLK_AD of DMA channel `ch` on the board file `mem`.
fn channel_state(mem: &Path, ch: u8) -> (u32, u32) {
    let pm = edgetap::hw::mmio::PhysMem::open(mem).expect("open board");
    let header = edgetap::emu::read_header(&pm).expect("header");
    let regs = edgetap::hw::periph::Peripherals::map_dma_channel(&pm, header.periph_base, ch)
        .expect("map channel");
    (
        regs.read32(edgetap::hw::regs::dma::CS),
        regs.read32(edgetap::hw::regs::dma::CONBLK_AD),
    )
}

/// Mailbox allocations the emulator holds.
fn live_allocations(mem: &Path) -> u32 {
    let pm = edgetap::hw::mmio::PhysMem::open(mem).expect("open board");
    edgetap::emu::read_header(&pm)
        .expect("header")
        .live_allocations
}

#[test]
fn after_kill_9_the_next_start_stops_the_orphaned_chain_and_frees_its_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signal = demo_signal(dir.path(), 2);
    let mem = dir.path().join("board");
    let _emulator = KilledOnDrop(
        edgetap()
            .args(["emulator", "--board", "pi4", "--loop", "--mem"])
            .arg(&mem)
            .arg("--signal")
            .arg(&signal)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn emulator"),
    );
    let wait_until = |what: &str, cond: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_until("the board file", &|| {
        edgetap::hw::mmio::PhysMem::open(&mem)
            .ok()
            .and_then(|m| edgetap::emu::read_header(&m).ok())
            .is_some()
    });
    let config = attach_config(dir.path(), &mem);
    let err1 = dir.path().join("stderr1");
    // The first agent takes the Pi 4's default channel, 7.
    let mut first = edgetap()
        .args(["capture", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("edges1.jsonl"))
        .stderr(std::fs::File::create(&err1).expect("stderr file"))
        .spawn()
        .expect("spawn capture");
    wait_until("the first agent's chain", &|| {
        let (cs, ad) = channel_state(&mem, 7);
        cs & 1 != 0 && ad != 0
    });
    std::thread::sleep(Duration::from_millis(200));
    unsafe_kill(first.id(), libc::SIGKILL);
    wait_exit(&mut first, Duration::from_secs(10), String::new);
    // Orphaned: the engine still runs the dead process's chain, its memory still allocated.
    std::thread::sleep(Duration::from_millis(200));
    let (cs, ad) = channel_state(&mem, 7);
    assert!(cs & 1 != 0 && ad != 0, "the orphan runs on: CS {cs:#x}");
    assert_eq!(live_allocations(&mem), 1);

    // The next start, on another channel, finds the record and cleans up.
    let err2 = dir.path().join("stderr2");
    let mut second = edgetap()
        .args([
            "capture",
            "--duration",
            "0.3",
            "--set",
            "sampler.dma_channel=5",
        ])
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(dir.path().join("edges2.jsonl"))
        .stderr(std::fs::File::create(&err2).expect("stderr file"))
        .spawn()
        .expect("spawn capture");
    let log = || std::fs::read_to_string(&err2).unwrap_or_default();
    let status = wait_exit(&mut second, Duration::from_secs(10), log);
    assert!(status.success(), "{}", log());
    let (cs, ad) = channel_state(&mem, 7);
    assert!(
        cs & 1 == 0 && ad == 0,
        "the orphaned chain still runs: CS {cs:#x} CONBLK_AD {ad:#x}\n{}",
        log()
    );
    assert_eq!(live_allocations(&mem), 0, "leaked DMA memory\n{}", log());
    assert!(
        log().contains("stopped a DMA chain left running"),
        "{}",
        log()
    );
    assert!(log().contains("released the DMA memory"), "{}", log());
    assert!(
        !dir.path().join("state/dma-chain.json").exists(),
        "a clean exit leaves no record"
    );
}
