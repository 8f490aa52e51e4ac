//! The publisher's decisions over connects and drops: what is published at a connect, what is
//! left and what is requeued when the connection drops, what the subscriptions become.

use std::time::Instant;

use super::*;
use crate::config::SpoolConfig;
use crate::edges::PinLevel;
use crate::mqtt::control::control_channel;
use crate::mqtt::testing::{
    acked, batch, connack, deliver, deliver_in, drain, drop_connection, publisher, suback, written,
};

fn kinds(sent: &[crate::mqtt::testing::Sent]) -> Vec<String> {
    sent.iter().map(|s| s.kind()).collect()
}

#[test]
fn nothing_goes_out_before_the_broker_accepts_the_connection() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    p.accept(Outgoing::Batch(batch(0)), t0);
    assert!(p.next_message(t0).is_none());
    assert_eq!(p.edges_outstanding(), 1);
    assert!(!p.spooling(), "no spool: batches wait in memory");
}

#[test]
fn a_connect_publishes_online_first_then_batches_then_levels() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    p.accept(Outgoing::Levels(vec![PinLevel { pin: 17, level: 1 }]), t0);
    p.accept(Outgoing::Batch(batch(0)), t0);
    connack(&mut p, false, t0);
    let sent = drain(&mut p, t0);
    assert_eq!(kinds(&sent), ["status:online", "live:0", "gpio:17=1"]);
    assert_eq!(sent[0].topic, "edgetap/pi-01/status");
    assert!(sent[0].retain);
    assert_eq!(sent[2].payload, b"ON");
}

#[test]
fn a_drop_requeues_unacknowledged_batches_in_order_ahead_of_newer_ones() {
    let t0 = Instant::now();
    let (mut p, stats) = publisher(t0);
    connack(&mut p, false, t0);
    for seq in 0..4 {
        p.accept(Outgoing::Batch(batch(seq)), t0);
    }
    let sent = drain(&mut p, t0);
    assert_eq!(
        kinds(&sent),
        ["status:online", "live:0", "live:1", "live:2", "live:3"]
    );
    written(&mut p, 1..=5, t0);
    acked(&mut p, [1, 2, 4], t0); // online, batch 0 and batch 2
    assert_eq!(Stats::get(&stats.batches_sent), 2);
    drop_connection(&mut p, t0);
    assert!(!p.connected());
    assert_eq!(p.edges_outstanding(), 2, "1 and 3 are left");
    p.accept(Outgoing::Batch(batch(4)), t0);

    connack(&mut p, false, t0);
    let again = drain(&mut p, t0);
    assert_eq!(
        kinds(&again),
        ["status:online", "live:1", "live:3", "live:4"],
        "resent in order, before the newer batch"
    );
    deliver(&mut p, &again, 1, t0);
    assert_eq!(Stats::get(&stats.batches_sent), 5);
    assert!(p.idle());
}

#[test]
fn a_drop_with_a_spool_spools_what_is_left_and_replays_it_with_its_seq() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut p, stats) = publisher(t0);
    let cfg = SpoolConfig {
        enabled: true,
        replay_rate: 100,
        ..SpoolConfig::default()
    };
    p.reconfigure_spool(dir.path().join("spool"), &cfg, t0);
    connack(&mut p, false, t0);
    for seq in 0..3 {
        p.accept(Outgoing::Batch(batch(seq)), t0);
    }
    let sent = drain(&mut p, t0);
    written(&mut p, 1..=4, t0);
    acked(&mut p, [2], t0); // batch 0
    assert_eq!(kinds(&sent)[1..], ["live:0", "live:1", "live:2"]);
    drop_connection(&mut p, t0);
    assert_eq!(
        Stats::get(&stats.batches_spooled),
        2,
        "1 and 2 went to the spool"
    );
    assert_eq!(p.edges_outstanding(), 0);
    assert!(
        p.spooling(),
        "disconnected with a spool: new batches are spooled"
    );
    p.accept(Outgoing::Batch(batch(3)), t0);
    assert_eq!(Stats::get(&stats.batches_spooled), 3);

    connack(&mut p, false, t0);
    let again = drain(&mut p, t0);
    assert_eq!(
        kinds(&again),
        ["status:online", "spooled:1", "spooled:2", "spooled:3"]
    );
    deliver(&mut p, &again, 10, t0);
    assert_eq!(Stats::get(&stats.batches_replayed), 3);
    assert_eq!(
        Stats::get(&stats.spool_pending),
        0,
        "acknowledged in the spool"
    );
    assert!(p.idle());
}

#[test]
fn retained_state_is_published_again_at_every_connect() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    p.set_config("{\"v\":1}".into());
    p.accept(Outgoing::Levels(vec![PinLevel { pin: 4, level: 0 }]), t0);
    connack(&mut p, false, t0);
    let first = drain(&mut p, t0);
    assert_eq!(kinds(&first), ["status:online", "config", "gpio:4=0"]);
    assert!(
        drain(&mut p, t0).is_empty(),
        "published once per connection"
    );
    drop_connection(&mut p, t0);
    connack(&mut p, true, t0);
    assert_eq!(kinds(&drain(&mut p, t0)), kinds(&first));
}

#[test]
fn removed_pins_are_cleared_and_not_published() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    p.accept(Outgoing::Levels(vec![PinLevel { pin: 4, level: 1 }]), t0);
    p.accept(Outgoing::Removed(vec![4]), t0);
    connack(&mut p, false, t0);
    let sent = drain(&mut p, t0);
    assert_eq!(
        kinds(&sent),
        ["status:online", "clear:edgetap/pi-01/gpio/4"]
    );
    assert!(sent[1].payload.is_empty() && sent[1].retain);
}

#[test]
fn every_connect_subscribes_to_the_config_topics_and_tells_the_controller() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let (link, handle) = control_channel(vec!["lab".into()]);
    p.set_control(Some(link));
    connack(&mut p, false, t0);
    let r = p.next_request().expect("a subscription");
    assert_eq!(
        r.subscribe,
        [
            "edgetap/group/lab/config/set",
            "edgetap/pi-01/config/set",
            "edgetap/pi-01/probe"
        ]
    );
    assert!(r.unsubscribe.is_empty());
    assert!(handle.link.borrow().connected);
    drop_connection(&mut p, t0);
    assert!(!handle.link.borrow().connected);
    connack(&mut p, true, t0);
    assert_eq!(
        p.next_request().unwrap().subscribe.len(),
        3,
        "again, every time"
    );
}

#[test]
fn after_a_switch_only_the_probe_goes_out_until_it_comes_back() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let (link, handle) = control_channel(vec![]);
    p.set_control(Some(link));
    p.moved(Topics::new("fleet2", "pi-01"), "broker:1883".into());
    p.accept(Outgoing::Batch(batch(0)), t0);
    connack(&mut p, false, t0);
    let r = p.next_request().unwrap();
    assert!(drain(&mut p, t0).is_empty(), "nothing before the SUBACK");
    suback(&mut p, 1, &vec![true; r.subscribe.len()], t0);
    let sent = drain(&mut p, t0);
    assert_eq!(kinds(&sent), ["probe"], "only the probe while on probation");
    assert_eq!(sent[0].topic, "fleet2/pi-01/probe");
    assert_eq!(handle.link.borrow().proof, None);
    deliver_in(&mut p, "fleet2/pi-01/probe", b"someone else's", t0);
    assert_eq!(handle.link.borrow().proof, None);
    deliver_in(&mut p, "fleet2/pi-01/probe", &sent[0].payload, t0);
    assert_eq!(handle.link.borrow().proof, Some(Ok(())));
    let after = kinds(&drain(&mut p, t0));
    assert_eq!(after.first().map(String::as_str), Some("status:online"));
    assert!(after.contains(&"live:0".to_string()), "{after:?}");
}

#[test]
fn a_refused_subscription_fails_the_proof_and_holds_the_publishes() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let (link, handle) = control_channel(vec![]);
    p.set_control(Some(link));
    p.moved(Topics::new("fleet2", "pi-01"), "broker:1883".into());
    connack(&mut p, false, t0);
    let _ = p.next_request().unwrap();
    suback(&mut p, 1, &[false, true], t0);
    let Some(Err(why)) = handle.link.borrow().proof.clone() else {
        panic!("{:?}", handle.link.borrow())
    };
    assert!(why.contains("fleet2/pi-01/config/set"), "{why}");
    assert!(
        drain(&mut p, t0).is_empty(),
        "no probe, no batches: the controller rolls back"
    );
    p.queue_offline();
    assert_eq!(
        kinds(&drain(&mut p, t0)),
        ["status:online", "status:offline"],
        "leaving still says so, and no batch went out"
    );
}

#[test]
fn results_beyond_the_limit_drop_the_oldest() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    for i in 0..(crate::mqtt::traffic::MAX_RESULTS + 2) {
        p.push_result(format!("r{i}"));
    }
    connack(&mut p, false, t0);
    let mut all = Vec::new();
    let mut pkid = 1;
    loop {
        let sent = drain(&mut p, t0);
        if sent.is_empty() {
            break;
        }
        pkid = deliver(&mut p, &sent, pkid, t0);
        all.extend(sent);
    }
    let results: Vec<String> = all
        .into_iter()
        .filter(|s| s.kind() == "result")
        .map(|s| String::from_utf8(s.payload).unwrap())
        .collect();
    assert_eq!(results.len(), crate::mqtt::traffic::MAX_RESULTS);
    assert_eq!(results[0], "r2");
}

#[test]
fn patches_beyond_the_channel_wait_unacknowledged_and_none_is_dropped() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let (link, mut handle) = control_channel(vec![]);
    p.set_control(Some(link));
    connack(&mut p, true, t0);
    for i in 0..40u16 {
        let mut msg = rumqttc::Publish::new(
            "edgetap/pi-01/config/set",
            QoS::AtLeastOnce,
            format!(r#"{{"_request":"q{i}"}}"#).into_bytes(),
        );
        msg.pkid = i + 1;
        p.handle(Event::Incoming(Incoming::Publish(msg)), t0);
    }
    assert!(
        p.next_ack().is_none(),
        "nothing acknowledged before it is handled"
    );
    let mut handled = Vec::new();
    while let Ok(msg) = handle.inbound.try_recv() {
        let text = String::from_utf8(msg.payload.clone()).unwrap();
        handled.push(text);
        p.controller_done(msg.ack.expect("QoS 1 carries its ack"));
        let acked = p.next_ack().expect("acknowledged once handled");
        assert_eq!(acked.pkid as usize, handled.len());
    }
    assert_eq!(handled.len(), 40, "every patch reaches the controller");
    assert_eq!(handled[39], r#"{"_request":"q39"}"#, "in order");
}

#[test]
fn an_ack_of_a_dropped_connection_is_not_sent_on_the_next() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let (link, mut handle) = control_channel(vec![]);
    p.set_control(Some(link));
    connack(&mut p, true, t0);
    let mut msg =
        rumqttc::Publish::new("edgetap/pi-01/config/set", QoS::AtLeastOnce, b"{}".to_vec());
    msg.pkid = 7;
    p.handle(Event::Incoming(Incoming::Publish(msg)), t0);
    let inbound = handle.inbound.try_recv().unwrap();
    drop_connection(&mut p, t0);
    connack(&mut p, true, t0);
    p.controller_done(inbound.ack.unwrap());
    assert!(
        p.next_ack().is_none(),
        "packet id 7 means another message now"
    );
}
