//! The systemd unit in deploy/: its exposure score under `systemd-analyze security` stays at
//! or below 2.0, and it keeps what the agent relies on (notify + watchdog, no root, only the
//! DMA backend's capabilities). The score check is skipped, saying so, without systemd-analyze
//! (.ci/run installs it).

use std::path::Path;
use std::process::Command;

const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/edgetap.service");

fn unit() -> String {
    std::fs::read_to_string(UNIT).expect("read deploy/edgetap.service")
}

/// The values of `key=` in the unit, in order.
fn values(text: &str, key: &str) -> Vec<String> {
    let prefix = format!("{key}=");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect()
}

/// The number in "Overall exposure level for edgetap.service: 2.0 OK".
fn exposure(report: &str) -> Option<f64> {
    let line = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    line.rsplit(':')
        .next()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[test]
fn the_exposure_score_is_at_most_2_0() {
    let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(analyzer) = analyzer else {
        eprintln!("skipped: systemd-analyze not installed (apt-get install systemd)");
        return;
    };
    let out = Command::new(analyzer)
        .args(["security", "--offline=true", "--no-pager", UNIT])
        .output()
        .expect("run systemd-analyze");
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let score = exposure(&report).unwrap_or_else(|| panic!("no score in:\n{report}"));
    assert!(score <= 2.0, "exposure {score} > 2.0:\n{report}");
}

#[test]
fn the_score_is_read_from_the_report_line() {
    let line = "→ Overall exposure level for edgetap.service: 2.0 OK 🙂";
    assert_eq!(exposure(line), Some(2.0));
    assert_eq!(
        exposure("→ Overall exposure level for x.service: 4.7 OK"),
        Some(4.7)
    );
    assert_eq!(exposure("nothing here"), None);
}

#[test]
fn the_unit_runs_unprivileged_with_notify_and_a_watchdog() {
    let u = unit();
    assert_eq!(values(&u, "Type"), ["notify"]);
    let watchdog = values(&u, "WatchdogSec");
    assert_eq!(watchdog.len(), 1, "WatchdogSec= set once");
    assert!(
        watchdog[0].parse::<u32>().is_ok_and(|s| s >= 10),
        "{watchdog:?}"
    );
    assert_eq!(values(&u, "User"), ["edgetap"]);
    assert_eq!(values(&u, "StateDirectory"), ["edgetap"]);
    assert_eq!(values(&u, "UMask"), ["0077"]);
    assert_eq!(values(&u, "MemoryDenyWriteExecute"), ["yes"]);
    assert_eq!(values(&u, "ProtectSystem"), ["strict"]);
    assert_eq!(values(&u, "SystemCallFilter")[0], "@system-service");
    // The DMA backend's needs and nothing else: /dev/mem (raw I/O, opened read-write) and the
    // mailbox (group video). CAP_SYS_ADMIN is for the pagemap fallback only: not by default.
    for key in ["AmbientCapabilities", "CapabilityBoundingSet"] {
        let mut caps: Vec<String> = values(&u, key)
            .iter()
            .flat_map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        caps.sort();
        assert_eq!(caps, ["CAP_DAC_OVERRIDE", "CAP_SYS_RAWIO"], "{key}");
    }
    assert_eq!(values(&u, "SupplementaryGroups"), ["video"]);
    assert_eq!(values(&u, "DeviceAllow"), ["/dev/mem rw", "/dev/vcio rw"]);
    // The installed paths of the .deb.
    assert!(values(&u, "ExecStart")[0]
        .starts_with("/usr/bin/edgetap run --config /etc/edgetap/edgetap.toml"));
}
