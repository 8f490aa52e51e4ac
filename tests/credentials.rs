//! `edgetap config check` on the settings a fleet deploys with: the device id taken from the
//! host name, the password read from a file or a systemd credential (and never shown), TLS,
//! and a broker URL refused with the keys it meant.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::agent::edgetap;

/// A valid config without `device_id`, with `mqtt` appended to its `[mqtt]` table.
fn config(dir: &Path, mqtt: &str) -> PathBuf {
    std::fs::write(dir.join("demo.vcd"), "").unwrap();
    let path = dir.join("edgetap.toml");
    std::fs::write(
        &path,
        format!(
            "state_dir = \"state\"\n[sampler.replay]\nsignal = \"demo.vcd\"\n[[inputs]]\n\
             pin = 17\n[mqtt]\n{mqtt}\n"
        ),
    )
    .unwrap();
    path
}

fn check(config: &Path, env: &[(&str, &Path)]) -> (Output, String, String) {
    let mut cmd = edgetap();
    cmd.args(["config", "check"]).arg(config);
    cmd.env_remove("CREDENTIALS_DIRECTORY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run edgetap config check");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, text, err)
}

fn private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn the_device_id_comes_from_the_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let (out, text, err) = check(&config(dir.path(), ""), &[]);
    assert!(out.status.success(), "{err}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let id = edgetap::config::host_device_id(&host).unwrap();
    assert!(
        text.contains(&format!(
            "# device_id = \"{id}\" (from the host name `{}`)",
            host.trim()
        )),
        "{text}"
    );
    assert!(text.contains(&format!("device_id = \"{id}\"\n")), "{text}");
}

#[test]
fn a_password_file_is_read_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    private(&dir.path().join("mqtt-password"), "hunter2-secret\n");
    let cfg = config(
        dir.path(),
        "username = \"pi-01\"\npassword_file = \"mqtt-password\"",
    );
    let (out, text, err) = check(&cfg, &[]);
    assert!(out.status.success(), "{err}");
    let file = dir.path().join("mqtt-password");
    assert!(
        text.contains(&format!("user \"pi-01\", password from {}", file.display())),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !err.contains("hunter2"),
        "{text}{err}"
    );
}

#[test]
fn a_credential_comes_from_the_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    private(&creds.join("mqtt-password"), "hunter2-secret");
    let cfg = config(
        dir.path(),
        "username = \"pi-01\"\npassword_credential = \"mqtt-password\"",
    );
    let (out, text, err) = check(&cfg, &[("CREDENTIALS_DIRECTORY", &creds)]);
    assert!(out.status.success(), "{err}");
    assert!(text.contains("password from the credential"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    // Outside the service there is no credentials directory: the error says how to give one.
    let (out, _, err) = check(&cfg, &[]);
    assert!(!out.status.success());
    assert!(err.contains("mqtt.password_credential"), "{err}");
    assert!(err.contains("LoadCredential=mqtt-password"), "{err}");
}

#[test]
fn tls_settings_are_shown_and_a_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (out, text, err) = check(
        &config(
            dir.path(),
            "host = \"broker.example\"\n[mqtt.tls]\nenabled = true\nca_file = \"absent.pem\"",
        ),
        &[],
    );
    assert!(out.status.success(), "{err}");
    assert!(
        text.contains("# broker: broker.example:8883, TLS, trusting CA"),
        "{text}"
    );
    assert!(
        text.contains("NOT USABLE: mqtt.tls.ca_file: cannot read"),
        "{text}"
    );

    let (out, _, err) = check(
        &config(dir.path(), "host = \"mqtts://broker.example:8883\""),
        &[],
    );
    assert!(!out.status.success());
    assert!(err.contains("mqtt.host"), "{err}");
    assert!(
        err.contains("mqtt.host = \"broker.example\", mqtt.port = 8883, mqtt.tls.enabled = true"),
        "{err}"
    );
}
