use super::*;
use crate::wire::device::tests::description;

#[test]
fn the_record_survives_a_restart_and_garbage_means_nothing_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Announcer::load(dir.path());
    a.desc = Some(description());
    a.refresh(&Topics::new("edgetap", "pi-01"));
    let due = a.retained.next().unwrap();
    let rec = a.retained.to_record(&due);
    assert_eq!(rec.len(), 18, "every config recorded at once");
    a.retained.recorded(rec);
    assert!(a.write_record());
    let b = Announcer::load(dir.path());
    assert_eq!(b.retained.held().len(), 18);
    assert_eq!(
        b.retained.next().unwrap().payload,
        "",
        "a fresh run clears until told"
    );

    std::fs::write(dir.path().join(DISCOVERY_FILE), b"[nope").unwrap();
    assert!(Announcer::load(dir.path()).retained.held().is_empty());
}

#[test]
fn info_is_due_at_every_connect_and_on_change_only() {
    let dir = tempfile::tempdir().unwrap();
    let topics = Topics::new("edgetap", "pi-01");
    let mut a = Announcer::load(dir.path());
    assert!(!a.pending(), "nothing described, nothing to announce");
    a.desc = Some(description());
    a.refresh(&topics);
    assert!(a.info_due);
    a.info_due = false;
    a.refresh(&topics);
    assert!(!a.info_due, "same payload: not again");
    a.desc.as_mut().unwrap().inventory.config_version = 4;
    a.refresh(&topics);
    assert!(a.info_due, "new config version");
    a.info_due = false;
    a.connected(true);
    assert!(a.info_due, "every connect");
    assert_eq!(a.ha_status().as_deref(), Some("homeassistant/status"));
    a.desc.as_mut().unwrap().inventory.homeassistant.enabled = false;
    assert_eq!(a.ha_status(), None);
}

#[test]
fn a_change_of_the_spool_s_state_makes_info_due_with_it() {
    use crate::stats::SpoolState;
    let topics = Topics::new("edgetap", "pi-01");
    let mut a = Announcer::default();
    a.describe(description(), &topics);
    a.info_due = false;
    let ok = SpoolHealth {
        state: SpoolState::Ok,
        reason: String::new(),
    };
    a.spool(ok.clone(), &topics);
    assert!(a.info_due, "the first state known");
    let Some(Announcement::Info(info)) = a.offer() else {
        panic!("info first")
    };
    let v: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(v["spool"], serde_json::json!({"state": "ok", "reason": ""}));
    a.sent(Announcement::Info(info));
    a.spool(ok, &topics);
    assert!(!a.info_due, "the same state again: nothing to say");
    a.spool(
        SpoolHealth {
            state: SpoolState::Degraded,
            reason: "cannot write: No space left on device".into(),
        },
        &topics,
    );
    let Some(Announcement::Info(info)) = a.offer() else {
        panic!("info again")
    };
    let v: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(v["spool"]["state"], "degraded");
    assert_eq!(
        v["spool"]["reason"],
        "cannot write: No space left on device"
    );
}
