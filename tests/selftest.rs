//! `edgetap selftest` on the emulated boards: a finite chain, every word checked, the channel
//! stopped, the memory given back; and a plain FAIL line with a non-zero exit when it cannot.

mod support;

use std::path::Path;

use support::agent::{demo_signal, edgetap};

/// Runs `edgetap selftest` on an emulated `board` (lock-step) with extra `--set`s.
fn selftest(dir: &Path, board: &str, sets: &[&str]) -> (bool, String) {
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
