use super::*;

fn set(topics: &[&str]) -> BTreeSet<String> {
    topics.iter().map(|t| t.to_string()).collect()
}

#[test]
fn the_record_survives_a_restart_and_says_what_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = HeldTopics::load(dir.path());
    h.hold("edgetap/pi/info");
    h.hold("edgetap/pi/gpio/17");
    h.hold("edgetap/pi/gpio/18");
    h.release("edgetap/pi/gpio/18");
    let again = HeldTopics::load(dir.path());
    let now = set(&["fleet/pi/info", "fleet/pi/gpio/17"]);
    let stale: Vec<&String> = again.stale(&now).collect();
    assert_eq!(stale, ["edgetap/pi/gpio/17", "edgetap/pi/info"]);
    let same = set(&["edgetap/pi/info", "edgetap/pi/gpio/17"]);
    assert_eq!(again.stale(&same).count(), 0);
}

#[test]
fn garbage_or_no_record_means_nothing_held_and_memory_only_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(HELD_FILE), b"[nope").unwrap();
    assert_eq!(HeldTopics::load(dir.path()).stale(&set(&[])).count(), 0);
    let mut m = HeldTopics::in_memory();
    m.hold("a/b/info");
    assert_eq!(m.stale(&set(&[])).count(), 1);
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(HeldTopics::load(empty.path()).stale(&set(&[])).count(), 0);
}
