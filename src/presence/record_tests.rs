use super::*;

#[test]
fn wildcard_and_control_entries_are_refused_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retained.json");
    std::fs::write(
        &path,
        r#"["edgetap/#","edgetap/pi/gpio/17","a/+/b","","x\u0000y","edgetap/pi/info"]"#,
    )
    .unwrap();
    let set = read_set(&path).unwrap().unwrap();
    let want: BTreeSet<String> = ["edgetap/pi/gpio/17", "edgetap/pi/info"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(set, want);
}

#[test]
fn a_file_that_is_not_a_list_is_an_error_and_a_missing_one_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retained.json");
    assert!(read_set(&path).unwrap().is_none());
    std::fs::write(&path, "{}").unwrap();
    assert!(read_set(&path).is_err());
}
