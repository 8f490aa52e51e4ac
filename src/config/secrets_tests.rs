//! Tests of reading the broker password from a file or a systemd credential.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn the_password_file_gives_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "pw", "s3cret\n");
    let mut m = MqttConfig {
        password_file: Some(file.clone()),
        ..MqttConfig::default()
    };
    assert_eq!(
        resolve_password(&mut m, None).unwrap(),
        PasswordFrom::File(file)
    );
    assert_eq!(m.password.as_deref(), Some("s3cret"));
}

#[test]
fn a_credential_is_read_from_the_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "mqtt-password", "hunter2\r\n");
    let mut m = MqttConfig {
        password_credential: Some("mqtt-password".into()),
        ..MqttConfig::default()
    };
    let from = resolve_password(&mut m, Some(dir.path())).unwrap();
    assert_eq!(from, PasswordFrom::Credential(file));
    assert_eq!(m.password.as_deref(), Some("hunter2"));
}

#[test]
fn a_credential_without_the_directory_says_how_to_provide_it() {
    let mut m = MqttConfig {
        password_credential: Some("mqtt-password".into()),
        ..MqttConfig::default()
    };
    let e = resolve_password(&mut m, None).unwrap_err();
    assert_eq!(e.field, "mqtt.password_credential");
    assert!(e.reason.contains("LoadCredential=mqtt-password"), "{e}");
    assert!(m.password.is_none());
}

#[test]
fn errors_name_the_file_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let empty = secret_file(dir.path(), "empty", "\nhunter2\n");
    for (file, says) in [
        (empty, "holds no password"),
        (dir.path().join("absent"), "cannot read"),
    ] {
        let mut m = MqttConfig {
            password_file: Some(file.clone()),
            ..MqttConfig::default()
        };
        let e = resolve_password(&mut m, None).unwrap_err();
        assert_eq!(e.field, "mqtt.password_file");
        assert!(e.reason.contains(says), "{e}");
        assert!(e.reason.contains(&file.display().to_string()), "{e}");
        assert!(!e.reason.contains("hunter2"), "{e}");
    }
}

#[test]
fn only_one_source_of_the_password() {
    let mut m = MqttConfig {
        password: Some("a".into()),
        password_file: Some("/x".into()),
        ..MqttConfig::default()
    };
    let e = resolve_password(&mut m, None).unwrap_err();
    assert_eq!(e.field, "mqtt.password_file");
    assert!(e.reason.contains("mqtt.password"), "{e}");
}

#[test]
fn a_password_in_the_config_stays() {
    let mut m = MqttConfig {
        password: Some("a".into()),
        ..MqttConfig::default()
    };
    assert_eq!(
        resolve_password(&mut m, None).unwrap(),
        PasswordFrom::Config
    );
    assert_eq!(
        resolve_password(&mut MqttConfig::default(), None).unwrap(),
        PasswordFrom::None
    );
}
