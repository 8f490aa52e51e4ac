//! Tests of the private modes, under a umask that would otherwise open them to everyone.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn directories_and_files_are_created_private() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    create_dir_all(&nested).unwrap();
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&nested), 0o700);
    let file = nested.join("f");
    write(&file, b"x").unwrap();
    assert_eq!(mode(&file), 0o600);
    let other = nested.join("g");
    options().write(true).create_new(true).open(&other).unwrap();
    assert_eq!(mode(&other), 0o600);
}
