//! Tests of the user lookup (the drop itself changes the whole process: tests/privilege.rs
//! runs it in an agent process).

use super::*;

#[test]
fn root_is_uid_zero() {
    let a = lookup("root").expect("root is in every password database");
    assert_eq!((a.uid, a.gid), (0, 0));
}

#[test]
fn an_unknown_user_is_named_in_the_error() {
    let e = lookup("edgetap-no-such-user").unwrap_err();
    assert!(matches!(&e, PrivilegeError::NoSuchUser(n) if n == "edgetap-no-such-user"));
    assert!(e.to_string().contains("`edgetap-no-such-user`"), "{e}");
    assert!(matches!(lookup("a\0b"), Err(PrivilegeError::NoSuchUser(_))));
}

#[test]
fn the_current_user_is_known() {
    let (uid, _name) = current_user();
    // SAFETY-free check: the same uid as std's view of the process owner.
    assert_eq!(
        uid,
        std::fs::metadata("/proc/self")
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid()
            })
            .unwrap_or(uid)
    );
}
