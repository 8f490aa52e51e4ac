//! Tests of the host-name rule for `device_id`.

use super::*;

#[test]
fn host_names_become_ids() {
    let cases = [
        ("raspberrypi", Some("raspberrypi")),
        ("pi-07.lab.example.com", Some("pi-07")),
        ("Pi-Kitchen", Some("pi-kitchen")),
        ("pi kitchen\n", Some("pi-kitchen")),
        ("pi+07#x", Some("pi-07-x")),
        ("gate_3", Some("gate_3")),
        ("", None),
        (".example", None),
    ];
    for (host, id) in cases {
        assert_eq!(host_device_id(host).as_deref(), id, "{host:?}");
    }
}

#[test]
fn a_long_host_name_is_cut_to_a_valid_id() {
    let id = host_device_id(&"a".repeat(100)).unwrap();
    assert_eq!(id.len(), 64);
    // Every id the rule makes passes the config's own check.
    let toml = format!(
        "device_id = \"{id}\"\n[sampler.replay]\nsignal = \"x.vcd\"\n[[inputs]]\npin = 17\n"
    );
    assert!(crate::config::load_str(&toml, Path::new("/")).is_ok());
}

#[test]
fn the_host_name_is_read_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostname");
    std::fs::write(&file, "pi-01\n").unwrap();
    assert_eq!(host_name(&file).unwrap(), "pi-01");
    assert!(host_name(&dir.path().join("absent")).is_err());
}
