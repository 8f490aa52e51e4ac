use super::*;

fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|(t, p)| (t.to_string(), p.to_string()))
        .collect()
}

/// Hands out everything due; returns what was sent, in order.
fn drain(r: &mut RetainedSet) -> Vec<Due> {
    let mut out = Vec::new();
    while let Some(due) = r.next() {
        let rec = r.to_record(&due);
        r.recorded(rec);
        r.sent(due.clone());
        out.push(due);
    }
    out
}

#[test]
fn changes_publish_only_what_differs_and_clear_what_went() {
    let mut r = RetainedSet::new(BTreeSet::new());
    r.want(map(&[("a", "1"), ("b", "1")]));
    assert_eq!(drain(&mut r).len(), 2);
    r.want(map(&[("a", "2"), ("c", "1")]));
    let sent = drain(&mut r);
    let got: Vec<(&str, &str)> = sent
        .iter()
        .map(|d| (d.topic.as_str(), d.payload.as_str()))
        .collect();
    assert_eq!(got, [("b", ""), ("a", "2"), ("c", "1")], "clears first");
    assert_eq!(r.held().iter().collect::<Vec<_>>(), ["a", "c"]);
    r.republish();
    assert_eq!(drain(&mut r).len(), 2, "all desired again, no clear twice");
    r.want(BTreeMap::new());
    assert!(drain(&mut r).iter().all(|d| d.payload.is_empty()));
    assert!(r.held().is_empty() && !r.pending());
}

#[test]
fn an_earlier_run_s_topics_are_cleared_and_recorded_ones_kept() {
    let held: BTreeSet<String> = ["old", "a"].iter().map(|s| s.to_string()).collect();
    let mut r = RetainedSet::new(held);
    r.want(map(&[("a", "1"), ("b", "1")]));
    let clear = r.next().unwrap();
    assert_eq!(
        clear,
        Due {
            topic: "old".into(),
            payload: String::new()
        },
        "the earlier run's topic is cleared before anything is published"
    );
    assert!(r.to_record(&clear).is_empty(), "a clear records nothing");
    r.sent(clear);
    let first = r.next().unwrap();
    assert_eq!(first.topic, "a");
    assert!(r.to_record(&first).is_empty(), "a is recorded already");
    r.sent(first);
    let second = r.next().unwrap();
    assert_eq!(r.to_record(&second), ["b".to_string()]);
    drain(&mut r);
    assert_eq!(r.held().iter().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn an_upgrade_that_renames_every_config_clears_all_old_ones_before_the_first_new_one() {
    // What an upgrade to prefixed unique ids looks like: every topic moves.
    let held: BTreeSet<String> = ["ha/x/dev_a/config", "ha/x/dev_b/config"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut r = RetainedSet::new(held);
    r.want(map(&[
        ("ha/x/edgetap_dev_a/config", "A"),
        ("ha/x/edgetap_dev_b/config", "B"),
    ]));
    let sent = drain(&mut r);
    let kinds: Vec<bool> = sent.iter().map(|d| d.payload.is_empty()).collect();
    assert_eq!(kinds, [true, true, false, false], "{sent:?}");
}
