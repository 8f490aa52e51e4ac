use super::*;
use crate::config::load_str;

const FILE: &str = r#"
device_id = "pi-01"
[sampler.replay]
signal = "x.vcd"
[[inputs]]
pin = 17
[mqtt]
username = "u"
"#;

fn file_config() -> Config {
    load_str(FILE, Path::new("/etc/edgetap")).unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A remote state with a filter, a batch size and a cleared user name changed.
fn patched() -> RemoteConfig {
    let mut r = RemoteConfig::new(file_config());
    let a = r
        .apply(br#"{"_version":7,"inputs":[{"pin":17,"glitch_us":500}],"batch":{"max_edges":9},"mqtt":{"username":null,"keep_alive_s":60}}"#)
        .unwrap();
    r.commit(&a);
    r
}

#[test]
fn no_file_means_the_file_config_at_version_zero() {
    let dir = tempfile::tempdir().unwrap();
    let r = overlay(file_config(), dir.path()).unwrap();
    assert_eq!(r.version(), 0);
    assert_eq!(*r.config(), file_config());
}

#[test]
fn round_trip_restores_the_config_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let r = patched();
    save(dir.path(), &r).unwrap();
    assert_eq!(
        entries(dir.path()),
        vec![STATE_FILE],
        "no temp file left behind"
    );
    let back = overlay(file_config(), dir.path()).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.config().mqtt.username, None);
    // Owner-only, in an owner-only directory.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join(STATE_FILE)), 0o600);
    let fresh = dir.path().join("new/state");
    save(&fresh, &r).unwrap();
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    assert_eq!(mode(&fresh.join(STATE_FILE)), 0o600);
}

#[test]
fn the_password_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let with_password = FILE.replace(
        "username = \"u\"",
        "username = \"u\"\npassword = \"hunter2\"",
    );
    let file = load_str(&with_password, Path::new("/etc/edgetap")).unwrap();
    let mut r = RemoteConfig::new(file.clone());
    // The remote layer cannot set it, and what it does set is stored without it.
    assert!(r.apply(br#"{"mqtt":{"password":"other"}}"#).is_err());
    let a = r
        .apply(br#"{"mqtt":{"password":"***","keep_alive_s":60}}"#)
        .unwrap();
    r.commit(&a);
    save(dir.path(), &r).unwrap();
    let text = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("password"),
        "{text}"
    );
    let back = overlay(file, dir.path()).unwrap();
    assert_eq!(back.config().mqtt.password.as_deref(), Some("hunter2"));
    assert_eq!(back.config().mqtt.keep_alive_s, 60);
}

#[test]
fn only_the_remote_layer_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    save(dir.path(), &patched()).unwrap();
    let text = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 7);
    assert_eq!(
        v["patch"],
        serde_json::json!({
            "inputs": [{"pin":17,"name":"","glitch_us":500,"lockout_us":0,"noise_steady_us":0,"noise_active_us":0,"max_edges_per_s":25000,"device_class":null,"pull":"keep","invert":false,
                "meter":null,"watchdog_ms":0,"publish_edges":null,"publish_level":null}],
            "batch": {"max_edges": 9},
            "mqtt": {"username": null, "keep_alive_s": 60}
        })
    );
}

#[test]
fn file_edits_of_untouched_keys_still_apply_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    save(dir.path(), &patched()).unwrap();
    let edited = FILE.replace(
        "pin = 17",
        "pin = 17\n[batch]\nmax_age_ms = 99\nmax_edges = 1",
    );
    let edited = load_str(&edited, Path::new("/etc/edgetap")).unwrap();
    let r = overlay(edited.clone(), dir.path()).unwrap();
    assert_eq!(r.version(), 7);
    assert_eq!(r.config().batch.max_age_ms, 99, "file edit applies");
    assert_eq!(
        r.config().batch.max_edges,
        9,
        "remote value wins on its keys"
    );
    assert_eq!(r.config().inputs[0].glitch_us, 500);
    assert_eq!(*r.file_config(), edited);
}

#[test]
fn corrupt_file_is_ignored_and_moved_aside() {
    for junk in [
        &b"{\"version\": 3, \"pat"[..],
        b"\xff\xfe",
        b"[]",
        br#"{"version":1}"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), junk).unwrap();
        let r = overlay(file_config(), dir.path()).unwrap();
        assert_eq!(r, RemoteConfig::new(file_config()));
        assert_eq!(entries(dir.path()), vec![format!("{STATE_FILE}.bad")]);
    }
}

#[test]
fn invalid_patch_is_ignored_but_its_version_kept() {
    for patch in [
        r#"{"inputs":[{"pin":99}]}"#,
        r#"{"bogus":1}"#,
        r#"{"device_id":"other"}"#,
        r#"5"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(r#"{{"version":4,"patch":{patch}}}"#);
        fs::write(dir.path().join(STATE_FILE), text).unwrap();
        let r = overlay(file_config(), dir.path()).unwrap();
        assert_eq!(r.version(), 4, "{patch}");
        assert_eq!(*r.config(), file_config(), "{patch}");
        assert_eq!(entries(dir.path()), vec![format!("{STATE_FILE}.bad")]);
    }
}

#[test]
fn save_replaces_the_previous_state_and_a_leftover_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    // A crash between write and rename leaves a temp file; it must not matter.
    fs::write(dir.path().join(format!("{STATE_FILE}.tmp")), "garbage").unwrap();
    save(dir.path(), &RemoteConfig::new(file_config())).unwrap();
    let r = patched();
    save(dir.path(), &r).unwrap();
    assert_eq!(entries(dir.path()), vec![STATE_FILE]);
    assert_eq!(overlay(file_config(), dir.path()).unwrap(), r);
}

#[test]
fn save_creates_the_state_dir_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    save(&nested, &patched()).unwrap();
    assert!(nested.join(STATE_FILE).is_file());

    let file = dir.path().join("not-a-dir");
    fs::write(&file, "").unwrap();
    let err = save(&file, &patched()).unwrap_err();
    assert!(matches!(err, PersistError::Write { .. }), "{err}");
}

#[test]
fn unreadable_state_is_an_error_for_the_agent_to_log() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: reading fails with an OS error, not NotFound.
    fs::create_dir(dir.path().join(STATE_FILE)).unwrap();
    let err = overlay(file_config(), dir.path()).unwrap_err();
    assert!(matches!(err, PersistError::Read { .. }), "{err}");
}

#[test]
fn merge_diff_inverts_merge() {
    let from = serde_json::json!({"a": 1, "b": {"c": 2, "d": [1]}, "e": null, "g": "x"});
    let to = serde_json::json!({"a": 1, "b": {"c": 3, "d": [1]}, "e": 5, "f": {"h": 1}});
    let p = merge_diff(&from, &to);
    assert_eq!(
        p,
        serde_json::json!({"b": {"c": 3}, "e": 5, "f": {"h": 1}, "g": null})
    );
    let mut merged = from.clone();
    json_patch::merge(&mut merged, &p);
    assert_eq!(merged, to);
}

#[test]
fn reset_sets_the_remote_layer_aside_and_the_next_start_is_at_version_zero() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(reset(dir.path()).unwrap(), None, "nothing to reset");
    // A layer no patch can move past any more (persisted before versions were bounded).
    let stuck = RemoteConfig::restore(file_config(), patched().config().clone(), u64::MAX);
    save(dir.path(), &stuck).unwrap();
    assert_eq!(
        overlay(file_config(), dir.path()).unwrap().version(),
        u64::MAX
    );
    assert_eq!(reset(dir.path()).unwrap(), Some(u64::MAX));
    assert_eq!(entries(dir.path()), ["remote-config.json.reset"]);
    let r = overlay(file_config(), dir.path()).unwrap();
    assert_eq!((r.version(), r.config()), (0, &file_config()));
    assert!(r.apply(b"{}").is_ok(), "patches are taken again");
}
