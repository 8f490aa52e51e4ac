//! The amd64 Debian package: built with `cargo deb --no-build --profile dev` from this test
//! run's binary (a release build would add minutes to CI for the same files), unpacked into a
//! scratch root with `dpkg-deb -x`, its control data checked, and its postinst run there with
//! DPKG_ROOT (accounts and paths under the scratch root, no systemd touched): files, modes and
//! owners as a fleet gets them. Skipped, saying so, without cargo-deb, dpkg-deb or root.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn have(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Builds the package into `out` and returns its path.
fn build_deb(out: &Path) -> PathBuf {
    // The binary cargo built for this test run, where cargo-deb looks for the dev profile's.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_edgetap"));
    let target_dir = bin
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    run(Command::new("cargo")
        .current_dir(MANIFEST_DIR)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "deb",
            "--no-build",
            "--profile",
            "dev",
            "--no-dbgsym",
            // Stripped and lightly compressed: the debug binary is ~150 MB, mostly symbols.
            "--strip",
            "--fast",
            "--output",
        ])
        .arg(out));
    std::fs::read_dir(out)
        .expect("output dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("a .deb was written")
}

/// A scratch root with the accounts a fresh Raspberry Pi OS has that matter here.
fn scratch_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let files = [
        ("passwd", "root:x:0:0:root:/root:/bin/bash\n"),
        ("group", "root:x:0:\nvideo:x:44:pi\ngpio:x:997:pi\n"),
        ("shadow", "root:*:19000:0:99999:7:::\n"),
        ("gshadow", "root:*::\nvideo:*::pi\ngpio:!::pi\n"),
    ];
    for (name, text) in files {
        std::fs::write(root.join("etc").join(name), text).unwrap();
    }
    // useradd reads its defaults from the target.
    let defs = Path::new("/etc/login.defs");
    if defs.exists() {
        std::fs::copy(defs, root.join("etc/login.defs")).unwrap();
    }
    root
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn owner(path: &Path) -> (u32, u32) {
    let m = std::fs::metadata(path).unwrap();
    (m.uid(), m.gid())
}

fn entry<'a>(file: &'a str, name: &str) -> Option<Vec<&'a str>> {
    file.lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .map(|l| l.split(':').collect())
}

#[test]
fn the_package_installs_the_agent_as_a_fleet_needs_it() {
    if !have("cargo", &["deb", "--version"]) {
        eprintln!("skipped: cargo-deb not installed (cargo install cargo-deb; .ci/run does)");
        return;
    }
    if !have("dpkg-deb", &["--version"]) || !is_root() {
        eprintln!("skipped: needs dpkg-deb and root (owners in the scratch root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let deb = build_deb(&dir.path().join("out"));

    // Control data.
    let info = run(Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert!(info.contains("Package: edgetap"), "{info}");
    assert!(info.contains("Architecture: amd64"), "{info}");
    for script in ["postinst", "prerm", "postrm"] {
        assert!(info.contains(script), "{script} missing:\n{info}");
    }
    let control = dir.path().join("control");
    run(Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap_or_default();
    assert_eq!(conffiles.trim(), "/etc/edgetap/edgetap.toml");
    assert_eq!(mode(&control.join("postinst")), 0o755);

    // The files, as dpkg would unpack them.
    let root = scratch_root(dir.path());
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let bin = root.join("usr/bin/edgetap");
    assert_eq!(mode(&bin), 0o755);
    assert_eq!(owner(&bin), (0, 0));
    let version = run(Command::new(&bin).arg("--version"));
    assert!(version.starts_with("edgetap "), "{version}");
    let unit = root.join("lib/systemd/system/edgetap.service");
    assert_eq!(mode(&unit), 0o644);
    assert_eq!(
        std::fs::read(&unit).unwrap(),
        std::fs::read(Path::new(MANIFEST_DIR).join("deploy/edgetap.service")).unwrap()
    );
    let conf = root.join("etc/edgetap/edgetap.toml");
    assert_eq!(
        std::fs::read(&conf).unwrap(),
        std::fs::read(Path::new(MANIFEST_DIR).join("config/default.toml")).unwrap(),
        "the conffile is the commented default config"
    );

    // The maintainer script, under the scratch root; run twice (an upgrade's configure) to show
    // it is idempotent.
    let postinst = control.join("postinst");
    for previous in ["", "0.0.9"] {
        let mut cmd = Command::new("sh");
        cmd.arg(&postinst).arg("configure");
        if !previous.is_empty() {
            cmd.arg(previous);
        }
        run(cmd.env("DPKG_ROOT", &root));
    }
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let group = std::fs::read_to_string(root.join("etc/group")).unwrap();
    assert_eq!(
        passwd.matches("\nedgetap:").count(),
        1,
        "one user:\n{passwd}"
    );
    let user = entry(&passwd, "edgetap").expect("user edgetap");
    let uid: u32 = user[2].parse().unwrap();
    let gid: u32 = user[3].parse().unwrap();
    assert!(uid > 0 && uid < 1000, "a system user: {user:?}");
    assert_eq!(user[5], "/var/lib/edgetap");
    assert_eq!(user[6], "/usr/sbin/nologin");
    assert_eq!(
        entry(&group, "edgetap").expect("group edgetap")[2],
        gid.to_string()
    );
    for g in ["video", "gpio"] {
        let members = entry(&group, g).expect("group")[3];
        assert!(
            members.split(',').any(|m| m == "edgetap"),
            "edgetap in {g}: {group}"
        );
    }
    let state = root.join("var/lib/edgetap");
    assert_eq!(mode(&state), 0o700);
    assert_eq!(owner(&state), (uid, gid));
    assert_eq!(mode(&conf), 0o640);
    assert_eq!(owner(&conf), (0, gid));
    // Enabled (started at boot), not started now: nothing in the scratch root runs.
    let wants = root.join("etc/systemd/system/multi-user.target.wants/edgetap.service");
    let link = std::fs::read_link(&wants).expect("enabled: the multi-user.target.wants link");
    assert!(link.ends_with("edgetap.service"), "{}", link.display());
}
