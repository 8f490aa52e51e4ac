use super::*;

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn stale_filters_are_those_no_longer_wanted_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = SessionRecord::load(dir.path());
    assert!(
        r.stale(&set(&["a/x"])).is_empty(),
        "unknown: nothing to drop"
    );
    r.remember(set(&["a/x", "g/1"]));
    let r = SessionRecord::load(dir.path());
    assert_eq!(r.stale(&set(&["b/x", "g/1"])), vec!["a/x".to_string()]);
    assert!(r.stale(&set(&["a/x", "g/1"])).is_empty());
}

#[test]
fn garbage_record_means_unknown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(SESSION_FILE), b"{nope").unwrap();
    let r = SessionRecord::load(dir.path());
    assert!(r.stale(&set(&["a"])).is_empty());
}

#[test]
fn in_memory_record_still_tracks_changes_within_the_process() {
    let mut r = SessionRecord::in_memory();
    r.remember(set(&["old/config/set"]));
    assert_eq!(
        r.stale(&set(&["new/config/set"])),
        vec!["old/config/set".to_string()]
    );
}

#[test]
fn a_connect_subscribes_to_everything_wanted_and_drops_the_rest() {
    let mut r = SessionRecord::in_memory();
    let first = r.subscribe(set(&["a/config/set", "g/1"]));
    assert_eq!(first.subscribe, ["a/config/set", "g/1"]);
    assert!(first.unsubscribe.is_empty(), "unknown: nothing to drop");
    let again = r.subscribe(set(&["b/config/set", "g/1"]));
    assert_eq!(again.subscribe, ["b/config/set", "g/1"], "all again");
    assert_eq!(again.unsubscribe, ["a/config/set"]);
}

#[test]
fn an_update_while_connected_subscribes_only_to_what_is_new() {
    let mut r = SessionRecord::in_memory();
    r.subscribe(set(&["a/config/set", "ha/status"]));
    let u = r.update(set(&["a/config/set", "hb/status"]));
    assert_eq!(u.subscribe, ["hb/status"]);
    assert_eq!(u.unsubscribe, ["ha/status"]);
    assert_eq!(
        r.update(set(&["a/config/set", "hb/status"])),
        Resubscribe::default()
    );
}
