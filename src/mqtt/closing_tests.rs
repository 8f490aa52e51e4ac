//! The steps of a clean close, and the switch to new settings around it.

use std::time::Instant;

use rumqttc::Event;

use super::*;
use crate::edges::PinLevel;
use crate::mqtt::control::control_channel;
use crate::mqtt::testing::{
    acked, batch, connack, deliver, drain, drop_connection, publisher, written, Sent,
};
use crate::queue::Outgoing;
use crate::wire::device::tests::description;
use crate::wire::Topics;

fn kinds(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(|s| s.kind()).collect()
}

/// A connected publisher with everything it had to say delivered (pkids 1..).
fn settled(t0: Instant) -> (Publisher, u16) {
    let (mut p, _) = publisher(t0);
    connack(&mut p, false, t0);
    let sent = drain(&mut p, t0);
    let next = deliver(&mut p, &sent, 1, t0);
    (p, next)
}

#[test]
fn clears_then_offline_then_disconnect() {
    let t0 = Instant::now();
    let (mut p, mut pkid) = settled(t0);
    p.accept(Outgoing::Removed(vec![4]), t0);
    let mut c = Closing::default();
    assert_eq!(
        c.advance(&mut p, false),
        CloseStep::Wait,
        "a clear is queued"
    );
    let clears = drain(&mut p, t0);
    assert_eq!(kinds(&clears), ["clear:edgetap/pi-01/gpio/4"]);
    assert_eq!(c.advance(&mut p, false), CloseStep::Wait, "offline queued");
    let offline = drain(&mut p, t0);
    assert_eq!(kinds(&offline), ["status:offline"]);
    assert!(offline[0].retain);
    assert_eq!(
        c.advance(&mut p, false),
        CloseStep::Wait,
        "offline not accepted yet"
    );
    written(&mut p, [pkid, pkid + 1], t0);
    acked(&mut p, [pkid], t0);
    assert_eq!(
        c.advance(&mut p, false),
        CloseStep::Wait,
        "the clear is not the offline"
    );
    pkid += 1;
    acked(&mut p, [pkid], t0);
    assert_eq!(c.advance(&mut p, false), CloseStep::Disconnect);
    assert_eq!(
        c.advance(&mut p, false),
        CloseStep::Wait,
        "DISCONNECT not written yet"
    );
    p.handle(Event::Outgoing(rumqttc::Outgoing::Disconnect), t0);
    assert_eq!(c.advance(&mut p, false), CloseStep::Done(Closed::Clean));
    assert_eq!(c.advance(&mut p, false), CloseStep::Done(Closed::Clean));
}

#[test]
fn a_time_limit_passed_skips_the_waits_but_not_the_steps() {
    let t0 = Instant::now();
    let (mut p, _) = settled(t0);
    p.accept(Outgoing::Removed(vec![4]), t0);
    let mut c = Closing::default();
    // The shell hands over what is due before the close starts.
    assert_eq!(kinds(&drain(&mut p, t0)), ["clear:edgetap/pi-01/gpio/4"]);
    assert_eq!(c.advance(&mut p, true), CloseStep::Disconnect);
    assert_eq!(
        kinds(&drain(&mut p, t0)),
        ["status:offline"],
        "still handed over"
    );
    assert_eq!(
        c.advance(&mut p, true),
        CloseStep::Done(Closed::DisconnectNotSent)
    );
}

#[test]
fn a_drop_while_closing_ends_it_and_the_will_says_offline() {
    let t0 = Instant::now();
    let (mut p, _) = settled(t0);
    let mut c = Closing::default();
    assert_eq!(c.advance(&mut p, false), CloseStep::Wait);
    drain(&mut p, t0);
    drop_connection(&mut p, t0);
    assert_eq!(c.advance(&mut p, false), CloseStep::Done(Closed::Lost));
}

#[test]
fn closing_while_disconnected_ends_at_once() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let mut c = Closing::default();
    assert_eq!(c.advance(&mut p, false), CloseStep::Done(Closed::Lost));
}

#[test]
fn a_refused_disconnect_ends_the_close() {
    let t0 = Instant::now();
    let (mut p, _) = settled(t0);
    let mut c = Closing::default();
    assert_eq!(c.advance(&mut p, true), CloseStep::Disconnect);
    c.disconnect_refused();
    assert_eq!(c.advance(&mut p, false), CloseStep::Done(Closed::Clean));
}

/// The switch to new settings as the shell does it: clear what the new prefix does not use,
/// close, give up the connection, and start over under the new topics.
#[test]
fn a_switch_to_a_new_prefix_clears_the_old_topics_before_offline_and_resends_what_was_left() {
    let t0 = Instant::now();
    let (mut p, _) = publisher(t0);
    let (link, handle) = control_channel(Vec::new());
    p.set_control(Some(link));
    let mut d = description();
    d.inventory.homeassistant.enabled = false;
    p.describe(d);
    p.set_config("{}".into());
    p.accept(Outgoing::Levels(vec![PinLevel { pin: 17, level: 1 }]), t0);
    connack(&mut p, false, t0);
    let first = drain(&mut p, t0);
    let mut pkid = deliver(&mut p, &first, 1, t0);
    p.accept(Outgoing::Batch(batch(0)), t0);
    let edge = drain(&mut p, t0);
    assert_eq!(kinds(&edge), ["live:0"]);
    written(&mut p, [pkid], t0); // in flight, never acknowledged
    pkid += 1;

    let topics = Topics::new("fleet", "pi-01");
    p.clear_stale(&topics);
    let mut c = Closing::default();
    assert_eq!(c.advance(&mut p, false), CloseStep::Wait);
    let mut cleared: Vec<String> = drain(&mut p, t0).into_iter().map(|s| s.topic).collect();
    cleared.sort();
    assert_eq!(
        cleared,
        [
            "edgetap/pi-01/config",
            "edgetap/pi-01/gpio/17",
            "edgetap/pi-01/info"
        ],
        "what the old prefix holds, except status"
    );
    assert_eq!(c.advance(&mut p, false), CloseStep::Wait);
    assert_eq!(kinds(&drain(&mut p, t0)), ["status:offline"]);
    written(&mut p, pkid..pkid + 4, t0);
    acked(&mut p, pkid..pkid + 4, t0);
    assert_eq!(c.advance(&mut p, false), CloseStep::Disconnect);
    p.handle(Event::Outgoing(rumqttc::Outgoing::Disconnect), t0);
    assert_eq!(c.advance(&mut p, false), CloseStep::Done(Closed::Clean));
    p.left(t0);
    assert!(!p.connected());
    assert_eq!(p.edges_outstanding(), 1, "the unacknowledged batch is kept");

    p.moved(topics, "other:1883".into());
    assert_eq!(handle.link.borrow().generation, 1);
    assert!(!handle.link.borrow().connected);
    connack(&mut p, false, t0);
    crate::mqtt::testing::prove(&mut p, 900, t0);
    let again = drain(&mut p, t0);
    let topics: Vec<&str> = again.iter().map(|s| s.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "fleet/pi-01/status",
            "fleet/pi-01/config",
            "fleet/pi-01/info",
            "fleet/pi-01/edges",
            "fleet/pi-01/gpio/17"
        ],
        "everything again under the new prefix, the batch resent"
    );
    assert_eq!(again[3].seq(), 0);
}
