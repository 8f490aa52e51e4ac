//! Home Assistant discovery and the retained `info` topic against a real mosquitto: configs
//! retained under the HA prefix, republished when Home Assistant says `online`, cleared when a
//! patch removes an input, turns discovery off or moves its prefix, cleared after a restart
//! with an input removed from the file, and not republished by a reconnect that resumes the
//! session; `info` retained at every connect and updated by patches, the board included.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::agent::{demo_signal, AgentProcess};
use support::remote::{json, result, WAIT};
use support::{free_port, publish, retained, Mosquitto, Msg, Subscriber, TcpProxy};

/// The 16 stats keys of the contract, each a sensor.
const STATS_KEYS: [&str; 16] = [
    "samples_per_s",
    "edges_per_s",
    "batches_sent",
    "batches_spooled",
    "dropped_queue_full",
    "dropped_spool_full",
    "dropped_spool_error",
    "rate_limited",
    "overruns",
    "samples_lost",
    "reconnects",
    "spool_bytes",
    "spool_pending",
    "publish_latency_ms_p99",
    "cpu_percent",
    "rss_bytes",
];

/// Inputs 17 ("door", a door) and 18 (unnamed), as in the patches below.
const TWO_INPUTS: &str = r#"[[inputs]]
pin = 17
name = "door"
device_class = "door"
[[inputs]]
pin = 18
"#;

/// An agent config looping the demo signal in real time, with its own state_dir.
fn config(dir: &Path, device: &str, port: u16, inputs: &str, extra: &str) -> PathBuf {
    let signal = dir.join("demo.vcd");
    if !signal.exists() {
        demo_signal(dir, 2);
    }
    let path = dir.join(format!("{device}.toml"));
    let text = format!(
        r#"device_id = "{device}"
state_dir = "{state}"
{extra}
[sampler]
period_us = 5
block_samples = 500
[sampler.replay]
signal = "{signal}"
loop = true
[sampler.emulated]
signal = "{signal}"
loop = true
{inputs}
[mqtt]
port = {port}
keep_alive_s = 5
reconnect_min_ms = 50
reconnect_max_ms = 400
rollback_after_s = 5
"#,
        state = dir.join(format!("{device}-state")).display(),
        signal = signal.display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The discovery topics of `device` with `inputs` under `prefix`.
fn discovery_topics(prefix: &str, device: &str, inputs: &[u8]) -> BTreeSet<String> {
    inputs
        .iter()
        .map(|p| format!("{prefix}/binary_sensor/edgetap_{device}_gpio{p}/config"))
        .chain(
            STATS_KEYS
                .iter()
                .map(|k| format!("{prefix}/sensor/edgetap_{device}_{k}/config")),
        )
        .collect()
}

/// Non-empty messages of `msgs` on `topics`, by topic (the last one wins).
fn on(msgs: &[Msg], topics: &BTreeSet<String>) -> BTreeMap<String, Msg> {
    msgs.iter()
        .filter(|m| topics.contains(&m.topic))
        .map(|m| (m.topic.clone(), m.clone()))
        .collect()
}

/// Waits until every topic of `topics` had a non-empty message; returns them by topic.
fn wait_all(sub: &Subscriber, topics: &BTreeSet<String>, what: &str) -> BTreeMap<String, Msg> {
    let got = sub.collect_until(
        |m| {
            let seen: BTreeSet<&String> = m
                .iter()
                .filter(|m| !m.payload.is_empty())
                .map(|m| &m.topic)
                .collect();
            topics.iter().all(|t| seen.contains(t))
        },
        WAIT,
    );
    let got = on(&got, topics);
    assert_eq!(
        got.keys().collect::<BTreeSet<_>>(),
        topics.iter().collect::<BTreeSet<_>>(),
        "{what}"
    );
    got
}

/// Adds messages to `seen` until `done(seen)` holds (or [`WAIT`] passes).
fn collect_more(sub: &Subscriber, seen: &mut Vec<Msg>, done: impl Fn(&[Msg]) -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !done(seen) {
        let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) else {
            return;
        };
        match sub.recv_timeout(left) {
            Some(m) => seen.push(m),
            None => return,
        }
    }
}

/// The retained `info` of `device` (panics if there is none).
fn info(port: u16, device: &str) -> Value {
    let topic = format!("edgetap/{device}/info");
    let r = retained(port, &topic);
    json(
        r.get(&topic)
            .unwrap_or_else(|| panic!("no retained {topic}")),
    )
}

/// Waits for the next `info` of `device` satisfying `pred`.
fn wait_info(sub: &Subscriber, device: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let topic = format!("edgetap/{device}/info");
    let m = sub
        .wait_for(|m| m.topic == topic && pred(&json(m)), WAIT)
        .unwrap_or_else(|| panic!("no matching {topic}"));
    json(&m)
}

#[test]
fn configs_are_retained_republished_on_ha_online_and_cleared_when_an_input_goes() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "ha1", broker.port(), TWO_INPUTS, "");
    let live = Subscriber::connect(broker.port(), "#");
    let agent = AgentProcess::start(&cfg, &[]);
    let want = discovery_topics("homeassistant", "ha1", &[17, 18]);
    let first = wait_all(&live, &want, "discovery at connect");

    // Retained, each with the right topics.
    let kept = retained(broker.port(), "homeassistant/#");
    assert_eq!(
        kept.keys().collect::<BTreeSet<_>>(),
        want.iter().collect(),
        "{}",
        agent.stderr()
    );
    let door = json(&kept["homeassistant/binary_sensor/edgetap_ha1_gpio17/config"]);
    assert_eq!(door["state_topic"], "edgetap/ha1/gpio/17");
    assert_eq!(door["availability_topic"], "edgetap/ha1/status");
    assert_eq!(door["device_class"], "door");
    assert_eq!(door["name"], "door");
    assert_eq!(door["unique_id"], "edgetap_ha1_gpio17");
    let plain = json(&kept["homeassistant/binary_sensor/edgetap_ha1_gpio18/config"]);
    assert_eq!(plain["name"], "GPIO 18");
    let cpu = json(&kept["homeassistant/sensor/edgetap_ha1_cpu_percent/config"]);
    assert_eq!(cpu["state_topic"], "edgetap/ha1/stats");
    assert_eq!(cpu["value_template"], "{{ value_json.cpu_percent }}");
    println!(
        "binary_sensor config: {}",
        kept["homeassistant/binary_sensor/edgetap_ha1_gpio17/config"].text()
    );
    // The state HA reads is one of the payloads the config names.
    let level = retained(broker.port(), "edgetap/ha1/gpio/17");
    let level = level["edgetap/ha1/gpio/17"].text();
    assert!(
        level == door["payload_on"] || level == door["payload_off"],
        "{level}"
    );

    let i = info(broker.port(), "ha1");
    println!("info: {i}");
    assert_eq!(i["pins"], serde_json::json!([17, 18]));
    assert_eq!(i["config_version"], 0);
    assert_eq!(
        (i["board"].as_str(), i["backend"].as_str()),
        (Some("replay"), Some("replay"))
    );
    assert_eq!(i["device"], "ha1");
    assert_eq!(i["spool"], serde_json::json!({"state": "ok", "reason": ""}));
    assert_eq!(i["version"], env!("CARGO_PKG_VERSION"));
    assert!(i["run"].as_u64().is_some() && i["period_us"] == 5);

    // Home Assistant restarted: every config comes again (live, not as a retained delivery).
    live.drain();
    publish(broker.port(), "homeassistant/status", b"online", false);
    let again = wait_all(&live, &want, "discovery after HA online");
    assert!(again.values().all(|m| !m.retain));
    assert_eq!(
        again.values().map(Msg::text).collect::<Vec<_>>(),
        first.values().map(Msg::text).collect::<Vec<_>>(),
        "the same configs"
    );

    // A patch removes input 18: its config is cleared, 17's stays, info follows.
    let mut seen = Vec::new();
    publish(
        broker.port(),
        "edgetap/ha1/config/set",
        br#"{"_request":"r1","inputs":[{"pin":17,"name":"door","device_class":"door"}]}"#,
        false,
    );
    let r = result(&live, "ha1", &mut seen);
    assert_eq!(r["ok"], true, "{r}");
    let gone = "homeassistant/binary_sensor/edgetap_ha1_gpio18/config";
    let cleared = seen.iter().any(|m| m.topic == gone && m.payload.is_empty())
        || live
            .wait_for(|m| m.topic == gone && m.payload.is_empty(), WAIT)
            .is_some();
    assert!(cleared, "no empty payload on {gone}:\n{}", agent.stderr());
    // `info` goes out before the result: retained by now.
    let i = info(broker.port(), "ha1");
    assert_eq!(i["config_version"], 1);
    assert_eq!(i["pins"], serde_json::json!([17]));
    let kept = retained(broker.port(), "homeassistant/#");
    assert!(
        !kept.contains_key(gone),
        "a fresh subscriber still gets {gone}"
    );
    assert_eq!(
        kept.keys().collect::<BTreeSet<_>>(),
        discovery_topics("homeassistant", "ha1", &[17])
            .iter()
            .collect()
    );

    // A rename republishes that input only.
    live.drain();
    publish(
        broker.port(),
        "edgetap/ha1/config/set",
        br#"{"_request":"r2","inputs":[{"pin":17,"name":"front door","device_class":"door"}]}"#,
        false,
    );
    let mut seen = Vec::new();
    assert_eq!(result(&live, "ha1", &mut seen)["ok"], true);
    let is_17 = |m: &Msg| m.topic == "homeassistant/binary_sensor/edgetap_ha1_gpio17/config";
    collect_more(&live, &mut seen, |m| m.iter().any(is_17));
    let renamed = seen
        .iter()
        .find(|m| is_17(m))
        .expect("renamed input republished");
    assert_eq!(json(renamed)["name"], "front door");
    seen.extend(live.collect_until(|_| false, Duration::from_millis(500)));
    let sensors = seen
        .iter()
        .filter(|m| m.topic.starts_with("homeassistant/sensor/"));
    assert_eq!(sensors.count(), 0, "unchanged sensors are not republished");
    drop(agent);
}

#[test]
fn turning_discovery_off_or_moving_its_prefix_clears_what_was_published() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "ha2", broker.port(), TWO_INPUTS, "");
    let live = Subscriber::connect(broker.port(), "#");
    let agent = AgentProcess::start(&cfg, &[]);
    let old = discovery_topics("homeassistant", "ha2", &[17, 18]);
    wait_all(&live, &old, "discovery at connect");
    let cleared = |msgs: &[Msg], topics: &BTreeSet<String>| {
        msgs.iter()
            .filter(|m| topics.contains(&m.topic) && m.payload.is_empty())
            .map(|m| m.topic.clone())
            .collect::<BTreeSet<_>>()
    };

    // A new prefix: everything under it, nothing left under the old one; HA's status topic moves.
    let mut seen = Vec::new();
    publish(
        broker.port(),
        "edgetap/ha2/config/set",
        br#"{"_request":"p","homeassistant":{"prefix":"site/ha"}}"#,
        false,
    );
    assert_eq!(result(&live, "ha2", &mut seen)["ok"], true);
    let new = discovery_topics("site/ha", "ha2", &[17, 18]);
    collect_more(&live, &mut seen, |m| {
        on(m, &new)
            .values()
            .filter(|m| !m.payload.is_empty())
            .count()
            == new.len()
            && cleared(m, &old) == old
    });
    assert_eq!(cleared(&seen, &old), old, "old prefix cleared");
    assert_eq!(
        on(&seen, &new).len(),
        new.len(),
        "published under the new prefix"
    );
    assert!(retained(broker.port(), "homeassistant/#").is_empty());
    assert_eq!(retained(broker.port(), "site/ha/#").len(), new.len());
    live.drain();
    publish(broker.port(), "homeassistant/status", b"online", false);
    publish(broker.port(), "site/ha/status", b"online", false);
    let got = live.collect_until(|m| on(m, &new).len() == new.len(), WAIT);
    assert_eq!(
        on(&got, &new).len(),
        new.len(),
        "`online` on the new status topic"
    );
    assert!(
        on(&got, &old).is_empty(),
        "the old status topic is no longer followed"
    );

    // Off: every config cleared, and `online` brings nothing back.
    publish(
        broker.port(),
        "edgetap/ha2/config/set",
        br#"{"_request":"off","homeassistant":{"enabled":false}}"#,
        false,
    );
    let mut seen = Vec::new();
    assert_eq!(result(&live, "ha2", &mut seen)["ok"], true);
    collect_more(&live, &mut seen, |m| cleared(m, &new) == new);
    assert_eq!(cleared(&seen, &new), new, "every config cleared");
    assert!(retained(broker.port(), "site/ha/#").is_empty());
    publish(broker.port(), "site/ha/status", b"online", false);
    let after = live.collect_until(|_| false, Duration::from_millis(1000));
    assert!(
        after
            .iter()
            .all(|m| !m.topic.starts_with("site/ha/") || m.topic == "site/ha/status"),
        "discovery is off: {:?}",
        after.iter().map(|m| &m.topic).collect::<Vec<_>>()
    );
    assert_eq!(
        info(broker.port(), "ha2")["homeassistant"]["enabled"],
        false
    );
    // The record of configs held on the broker is empty again.
    let record = dir.path().join("ha2-state").join("ha-discovery.json");
    let read = || std::fs::read_to_string(&record).unwrap_or_default();
    let deadline = std::time::Instant::now() + WAIT;
    while read() != "[]" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(read(), "[]");
    drop(agent);
}

#[test]
fn a_restart_clears_inputs_removed_from_the_file_and_a_resumed_session_is_not_flooded() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let proxy_port = free_port();
    let mut proxy = TcpProxy::start(proxy_port, broker.port());
    let cfg = config(dir.path(), "ha3", proxy_port, TWO_INPUTS, "");
    let live = Subscriber::connect(broker.port(), "#");
    let agent = AgentProcess::start(&cfg, &[]);
    let want = discovery_topics("homeassistant", "ha3", &[17, 18]);
    wait_all(&live, &want, "discovery at connect");
    let run = info(broker.port(), "ha3")["run"].clone();

    // The connection drops and comes back; the broker kept the session: `info` again (every
    // connect), the discovery configs not.
    live.drain();
    proxy.stop();
    live.wait_for(
        |m| m.topic == "edgetap/ha3/status" && m.payload == b"offline",
        WAIT,
    )
    .expect("last will");
    let _proxy = TcpProxy::start(proxy_port, broker.port());
    live.wait_for(
        |m| m.topic == "edgetap/ha3/status" && m.payload == b"online",
        WAIT,
    )
    .expect("back online");
    let i = wait_info(&live, "ha3", |_| true);
    assert_eq!(i["run"], run, "same process");
    let later = live.collect_until(|_| false, Duration::from_millis(1000));
    let republished: Vec<&String> = later
        .iter()
        .filter(|m| m.topic.starts_with("homeassistant/"))
        .map(|m| &m.topic)
        .collect();
    assert!(
        republished.is_empty(),
        "resumed session flooded with {republished:?}"
    );
    assert_eq!(retained(broker.port(), "homeassistant/#").len(), want.len());

    // Stop, remove input 18 from the file, start again: its config is cleared.
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
    let only17 = "[[inputs]]\npin = 17\nname = \"door\"\ndevice_class = \"door\"\n";
    config(dir.path(), "ha3", proxy_port, only17, "");
    live.drain();
    let agent = AgentProcess::start(&cfg, &[]);
    let gone = "homeassistant/binary_sensor/edgetap_ha3_gpio18/config";
    live.wait_for(|m| m.topic == gone && m.payload.is_empty(), WAIT)
        .unwrap_or_else(|| panic!("{gone} not cleared after the restart:\n{}", agent.stderr()));
    let kept = retained(broker.port(), "homeassistant/#");
    assert_eq!(
        kept.keys().collect::<BTreeSet<_>>(),
        discovery_topics("homeassistant", "ha3", &[17])
            .iter()
            .collect()
    );
    let i = info(broker.port(), "ha3");
    assert_eq!(i["pins"], serde_json::json!([17]));
    assert_ne!(i["run"], run, "a new run");
}

#[test]
fn a_sampler_change_shows_the_new_board_in_info_and_discovery() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "ha4", broker.port(), TWO_INPUTS, "");
    let live = Subscriber::connect(broker.port(), "#");
    let agent = AgentProcess::start(&cfg, &[]);
    let want = discovery_topics("homeassistant", "ha4", &[17, 18]);
    wait_all(&live, &want, "discovery at connect");
    let mut seen = Vec::new();
    publish(
        broker.port(),
        "edgetap/ha4/config/set",
        br#"{"_request":"emu","sampler":{"backend":"emulated"}}"#,
        false,
    );
    let r = result(&live, "ha4", &mut seen);
    assert_eq!(r["ok"], true, "{r}\n{}", agent.stderr());
    let i = info(broker.port(), "ha4");
    assert_eq!(i["backend"], "emulated");
    assert_eq!(i["board"], "Raspberry Pi 4B (emulated)");
    let kept = retained(broker.port(), "homeassistant/#");
    assert_eq!(kept.len(), want.len());
    for m in kept.values() {
        let dev = &json(m)["device"];
        assert_eq!(dev["model"], "Raspberry Pi 4B (emulated)", "{}", m.topic);
        assert_eq!(dev["manufacturer"], "edgetap (emulated)", "{}", m.topic);
    }
    drop(agent);
}

#[test]
fn an_upgrade_clears_the_unprefixed_configs_before_publishing_the_prefixed_ones() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "ha5", broker.port(), TWO_INPUTS, "");
    // What a release before prefixed unique ids left: configs retained on topics whose
    // object id is `<id>_…`, and their record in state_dir.
    let old: BTreeSet<String> = [17u8, 18]
        .iter()
        .map(|p| format!("homeassistant/binary_sensor/ha5_gpio{p}/config"))
        .chain(
            STATS_KEYS
                .iter()
                .map(|k| format!("homeassistant/sensor/ha5_{k}/config")),
        )
        .collect();
    for t in &old {
        publish(broker.port(), t, br#"{"unique_id":"old"}"#, true);
    }
    let state = dir.path().join("ha5-state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("ha-discovery.json"),
        serde_json::to_vec(&old).unwrap(),
    )
    .unwrap();
    assert_eq!(retained(broker.port(), "homeassistant/#").len(), old.len());

    let live = Subscriber::connect(broker.port(), "homeassistant/#");
    // The retained old configs arrive first at a new subscription: skip them.
    live.collect_until(|m| m.len() >= old.len(), WAIT);
    let agent = AgentProcess::start(&cfg, &[]);
    let new = discovery_topics("homeassistant", "ha5", &[17, 18]);
    let seen = live.collect_until(
        |m| {
            let published = m.iter().filter(|m| !m.payload.is_empty()).count();
            published >= new.len()
        },
        WAIT,
    );
    let first_new = seen
        .iter()
        .position(|m| !m.payload.is_empty())
        .unwrap_or_else(|| panic!("nothing published:\n{}", agent.stderr()));
    let cleared_before: BTreeSet<String> = seen[..first_new]
        .iter()
        .filter(|m| m.payload.is_empty())
        .map(|m| m.topic.clone())
        .collect();
    assert_eq!(
        cleared_before, old,
        "every old config is cleared before the first new one"
    );
    let kept = retained(broker.port(), "homeassistant/#");
    assert_eq!(kept.keys().cloned().collect::<BTreeSet<_>>(), new);
    let door = json(&kept["homeassistant/binary_sensor/edgetap_ha5_gpio17/config"]);
    assert_eq!(door["unique_id"], "edgetap_ha5_gpio17");
    assert_eq!(
        door["default_entity_id"], "binary_sensor.ha5_gpio17",
        "the entity id (and with it the history) stays what it was"
    );
    let cpu = json(&kept["homeassistant/sensor/edgetap_ha5_cpu_percent/config"]);
    assert_eq!(cpu["default_entity_id"], "sensor.ha5_cpu_percent");
    drop(agent);
}
