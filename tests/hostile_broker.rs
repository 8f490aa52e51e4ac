//! What a broker can break, against a real mosquitto: an ACL that denies a new topic prefix
//! (the change must roll back, not leave the device publishing into nothing), and a message too
//! big for the client's read limit (the device must read it, refuse it and stay connected).

mod support;

use std::time::Duration;

use support::agent::{demo_signal, AgentProcess};
use support::remote::{json, write_config, WAIT};
use support::{publish_sized, Mosquitto, Subscriber};

/// A broker with the example fleet ACL, plus everything for anonymous clients (the test's own
/// subscriber and publisher), plus `extra` lines.
fn broker_with_acl(extra: &str) -> Mosquitto {
    let acl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/mosquitto-acl.conf"
    ))
    .expect("deploy/mosquitto-acl.conf");
    Mosquitto::start_configured(|dir| {
        let path = dir.join("acl");
        std::fs::write(&path, format!("topic readwrite #\n{acl}\n{extra}\n")).expect("write acl");
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
        format!("acl_file {}\n", path.display())
    })
}

/// The ACL lets the device write under `fleet2` (its last will there passes the CONNECT) but
/// not read its `config/set` there: the connection succeeds, the subscription is refused, and a
/// device that kept the change could never be corrected again.
#[test]
fn a_prefix_the_acl_denies_is_rolled_back_with_the_reason() {
    let broker = broker_with_acl("pattern write fleet2/%u/#");
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "pi-01", &signal, broker.port(), "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("keep_alive_s = 5", "keep_alive_s = 5\nusername = \"pi-01\"");
    std::fs::write(&config, text).unwrap();
    let sub = Subscriber::connect(broker.port(), "+/pi-01/#");
    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    sub.wait_for(|m| m.topic == "edgetap/pi-01/edges", WAIT)
        .expect("edges flow under the allowed prefix");
    support::publish(
        broker.port(),
        "edgetap/pi-01/config/set",
        br#"{"_request":"f2","mqtt":{"topic_prefix":"fleet2"}}"#,
        false,
    );
    let r = sub
        .wait_for(|m| m.topic.ends_with("/config/result"), WAIT)
        .expect("a result");
    assert_eq!(
        r.topic, "edgetap/pi-01/config/result",
        "answered under the old prefix"
    );
    let r = json(&r);
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["rolled_back"], true, "{r}");
    assert_eq!(r["request"], "f2", "{r}");
    let reason = r["error"]["reason"].as_str().unwrap_or_default();
    // mosquitto grants the SUBSCRIBE and filters what it delivers: the probe is what notices.
    assert!(
        reason.contains("fleet2")
            && (reason.contains("refused the subscription") || reason.contains("probe")),
        "{reason}"
    );
    // Back on the old prefix, and the config in force still names it.
    sub.drain();
    sub.wait_for(|m| m.topic == "edgetap/pi-01/edges", WAIT)
        .expect("edges again under the old prefix");
    let cfg = sub
        .wait_for(
            |m| m.topic == "edgetap/pi-01/config",
            Duration::from_secs(2),
        )
        .or_else(|| {
            support::retained(broker.port(), "edgetap/pi-01/config")
                .into_values()
                .next()
        })
        .expect("retained config");
    assert_eq!(json(&cfg)["config"]["mqtt"]["topic_prefix"], "edgetap");
    assert!(agent.is_running());
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
}

#[test]
fn a_message_beyond_the_read_limit_is_refused_and_the_device_stays_connected() {
    let broker = Mosquitto::start_persistent();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "big", &signal, broker.port(), "");
    // Not `edgetap/big/#`: the test's own client would receive the big message too.
    let sub = Subscriber::connect(broker.port(), "edgetap/big/+");
    let results = Subscriber::connect(broker.port(), "edgetap/big/config/result");
    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    sub.wait_for(|m| m.topic == "edgetap/big/edges", WAIT)
        .expect("edges flow");
    // 4.1 MiB: over the client's usual 4 MiB read limit.
    let size = 4_300_000;
    let mut payload = br#"{"_request":"huge","x":""#.to_vec();
    payload.resize(size - 2, b'a');
    payload.extend_from_slice(br#""}"#);
    publish_sized(
        broker.port(),
        "edgetap/big/config/set",
        &payload,
        false,
        64 << 20,
    );
    let r = results
        .wait_for(|m| m.topic == "edgetap/big/config/result", WAIT)
        .map(|m| json(&m))
        .unwrap_or_else(|| {
            panic!(
                "the oversized patch is answered; agent:\n{}",
                agent.stderr()
            )
        });
    assert_eq!(r["ok"], false, "{r}");
    let reason = r["error"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(&format!("{size} bytes")), "{reason}");
    // Not redelivered after every CONNACK: the device stays connected and publishing.
    sub.drain();
    std::thread::sleep(Duration::from_secs(3));
    let after = sub.drain();
    assert!(
        after.iter().any(|m| m.topic == "edgetap/big/edges"),
        "edges keep flowing"
    );
    assert!(
        !after
            .iter()
            .any(|m| m.topic == "edgetap/big/status" && m.text() == "offline"),
        "no reconnect storm"
    );
    assert!(agent.is_running());
    agent.signal("TERM");
    let exit = agent.wait(WAIT);
    assert!(exit.status.success());
}
