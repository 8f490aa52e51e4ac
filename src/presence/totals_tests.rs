use super::*;

#[test]
fn totals_round_trip_and_a_corrupt_file_is_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_totals(dir.path()).is_empty());
    let totals = BTreeMap::from([(22, 123_456), (5, u64::MAX)]);
    save_totals(dir.path(), &totals);
    assert_eq!(load_totals(dir.path()), totals);
    assert!(!dir.path().join(format!("{TOTALS_FILE}.tmp")).exists());
    fs::write(dir.path().join(TOTALS_FILE), b"{not json").unwrap();
    assert!(load_totals(dir.path()).is_empty());
    assert!(dir.path().join("meter-totals.json.bad").exists());
}
