use super::*;

fn filters(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn granted_subscriptions_then_the_probe_back_prove_the_connection() {
    let mut p = Proof::default();
    p.start("n1".into());
    assert_eq!(p.probe_due(), None, "nothing subscribed yet");
    p.requested(filters(&["a/pi/config/set", "a/pi/probe"]));
    assert_eq!(p.probe_due(), None);
    p.subscribe_sent(7);
    assert_eq!(p.probe_due(), None, "SUBACK outstanding");
    assert!(p.suback(7, &[true, true]).is_empty());
    assert_eq!(p.probe_due(), Some("n1"));
    p.probe_sent();
    assert_eq!(p.probe_due(), None);
    p.received(b"n0");
    assert_eq!(
        p.outcome(),
        None,
        "a probe of another connection proves nothing"
    );
    p.received(b"n1");
    assert_eq!(p.outcome(), Some(&Ok(())));
    assert!(p.proven());
}

#[test]
fn a_refused_subscription_fails_the_proof_and_no_probe_is_sent() {
    let mut p = Proof::default();
    p.start("n".into());
    p.requested(filters(&["fleet2/pi/config/set", "fleet2/pi/probe"]));
    p.subscribe_sent(3);
    assert_eq!(p.suback(3, &[false, true]), ["fleet2/pi/config/set"]);
    let Some(Err(why)) = p.outcome() else {
        panic!("{:?}", p.outcome())
    };
    assert!(why.contains("fleet2/pi/config/set"), "{why}");
    assert_eq!(p.probe_due(), None);
    p.received(b"n");
    assert!(!p.proven(), "a failure stays a failure");
}

#[test]
fn a_dropped_connection_proves_nothing() {
    let mut p = Proof::default();
    p.start("n".into());
    p.requested(filters(&["t"]));
    p.subscribe_sent(1);
    p.stop();
    assert!(p.suback(1, &[true]).is_empty());
    p.received(b"n");
    assert_eq!((p.outcome(), p.probe_due()), (None, None));
}
