//! Remote configuration across restarts and connection changes, against a real mosquitto: the
//! persisted remote layer is in force after a restart (and old retained patches are skipped),
//! an unreachable broker rolls the connection back, sampler or pin changes apply live, and a
//! prefix change (live, with a broker change, or across a restart) or an input gone clears what
//! was left retained.

mod support;

use std::time::Duration;

use support::agent::{demo_signal, AgentProcess};
use support::remote::{assert_contiguous, batches, json, result, write_config, WAIT};
use support::{publish, retained, Mosquitto, Subscriber};

#[test]
fn a_persisted_patch_is_in_force_after_a_restart() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "keep", &signal, broker.port(), "");
    let file_text = std::fs::read_to_string(&config).unwrap();
    let args = ["--set", "sampler.replay.loop=true"];
    let sub = Subscriber::connect(broker.port(), "edgetap/keep/#");
    let agent = AgentProcess::start(&config, &args);
    let mut seen = Vec::new();
    // Retained, so it is delivered again at the next start: it must then be skipped as stale.
    let patch = br#"{"_request":"p1","_version":1,"batch":{"max_edges":3}}"#;
    sub.wait_for(|m| m.topic == "edgetap/keep/config", WAIT)
        .expect("config published at connect");
    publish(broker.port(), "edgetap/keep/config/set", patch, true);
    let r = result(&sub, "keep", &mut seen);
    assert_eq!(r, serde_json::json!({"request":"p1","version":1,"ok":true}));
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
    assert!(dir.path().join("keep-state/remote-config.json").is_file());
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        file_text,
        "config file written"
    );

    let sub = Subscriber::connect(broker.port(), "edgetap/keep/#");
    let mut agent = AgentProcess::start(&config, &args);
    let msgs = sub.collect_until(|m| batches(m, "keep").len() >= 20, WAIT);
    let cfg = msgs
        .iter()
        .rev()
        .find(|m| m.topic == "edgetap/keep/config" && !m.retain)
        .map(json)
        .unwrap_or_else(|| panic!("no config published at connect:\n{}", agent.stderr()));
    assert_eq!(cfg["version"], 1);
    assert_eq!(cfg["config"]["batch"]["max_edges"], 3);
    let got = batches(&msgs, "keep");
    assert!(got.len() >= 20);
    assert!(
        got.iter().all(|b| b.edges.len() <= 3),
        "old batch limit in force"
    );
    // The retained patch (version 1) came back on subscribe and was skipped without a reply.
    std::thread::sleep(Duration::from_millis(300));
    let later = sub.drain();
    assert!(
        !msgs
            .iter()
            .chain(&later)
            .any(|m| m.topic.ends_with("/config/result")),
        "a stale retained patch was answered"
    );
    assert!(agent.is_running());
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
}

#[test]
fn an_unreachable_broker_is_rolled_back_and_reported() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "rb", &signal, broker.port(), "");
    let sub = Subscriber::connect(broker.port(), "edgetap/rb/#");
    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    sub.wait_for(|m| m.topic == "edgetap/rb/edges", WAIT)
        .expect("edges flow");
    let patch = br#"{"_request":"rb1","mqtt":{"port":1}}"#;
    publish(broker.port(), "edgetap/rb/config/set", patch, false);
    let msgs = sub.collect_until(
        |m| {
            m.last()
                .is_some_and(|m| m.topic.ends_with("/config/result"))
        },
        Duration::from_secs(20),
    );
    let r = msgs.last().map(json).expect("no rollback result");
    assert_eq!(r["request"], "rb1", "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["rolled_back"], true, "{r}");
    assert_eq!(r["version"], 0, "{r}");
    assert_eq!(r["error"]["field"], "mqtt", "{r}");
    let reason = r["error"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("127.0.0.1:1 not reached within 5 s") && reason.contains("restored"),
        "{r}"
    );
    // Away for the trial (offline), back with the old settings (online), publishing again.
    let status: Vec<String> = msgs
        .iter()
        .filter(|m| m.topic == "edgetap/rb/status")
        .map(|m| m.text())
        .collect();
    assert!(
        status.ends_with(&["offline".into(), "online".into()]),
        "{status:?}"
    );
    let after = sub.collect_until(|m| batches(m, "rb").len() >= 5, WAIT);
    assert!(batches(&after, "rb").len() >= 5, "{}", agent.stderr());
    let cfg = msgs
        .iter()
        .chain(&after)
        .rev()
        .find(|m| m.topic == "edgetap/rb/config")
        .map(json)
        .expect("config republished");
    assert_eq!(cfg["version"], 0);
    assert_eq!(cfg["config"]["mqtt"]["port"], broker.port());
    assert!(agent.is_running());
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
}

#[test]
fn a_sampler_change_restarts_with_a_gap_and_a_new_pin_reports_its_level() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "samp", &signal, broker.port(), "");
    let sub = Subscriber::connect(broker.port(), "edgetap/samp/#");
    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    let mut msgs = sub.collect_until(|m| m.iter().any(|m| m.topic == "edgetap/samp/edges"), WAIT);
    let patch = br#"{"_request":"s","sampler":{"period_us":10},
        "inputs":[{"pin":17,"glitch_us":1000},{"pin":18},{"pin":22}]}"#;
    publish(broker.port(), "edgetap/samp/config/set", patch, false);
    let r = result(&sub, "samp", &mut msgs);
    assert_eq!(r["ok"], true, "{r}");
    msgs.extend(sub.collect_until(|m| batches(m, "samp").len() >= 10, WAIT));
    let got = batches(&msgs, "samp");
    assert_contiguous(&got);
    assert!(
        got.iter().any(|b| !b.gaps.is_empty()),
        "no gap for the restart"
    );
    assert!(msgs
        .iter()
        .any(|m| m.topic == "edgetap/samp/gpio/22" && m.text() == "OFF"));
    // GPIO 27 is no longer watched: its retained level is cleared.
    assert!(msgs
        .iter()
        .any(|m| m.topic == "edgetap/samp/gpio/27" && m.payload.is_empty()));
    let last = got.last().expect("batches");
    assert!(last.edges.iter().all(|e| e.pin != 27));
    assert!(agent.is_running());
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
}

#[test]
fn a_new_topic_prefix_moves_every_topic_including_config_set() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "pfx", &signal, broker.port(), "");
    let sub = Subscriber::connect(broker.port(), "+/pfx/#");
    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    sub.wait_for(|m| m.topic == "edgetap/pfx/edges", WAIT)
        .expect("edges flow");
    let before = retained(broker.port(), "edgetap/pfx/#");
    for leaf in ["status", "info", "config", "gpio/18"] {
        assert!(
            before.contains_key(&format!("edgetap/pfx/{leaf}")),
            "{leaf} retained before the move: {:?}",
            before.keys()
        );
    }
    let patch = br#"{"_request":"p","mqtt":{"topic_prefix":"fleet"}}"#;
    publish(broker.port(), "edgetap/pfx/config/set", patch, false);
    let msgs = sub.collect_until(
        |m| {
            m.last()
                .is_some_and(|m| m.topic == "fleet/pfx/config/result")
        },
        WAIT,
    );
    let r = msgs.last().map(json).expect("result under the new prefix");
    assert_eq!(r, serde_json::json!({"request":"p","version":1,"ok":true}));
    assert!(msgs
        .iter()
        .any(|m| m.topic == "edgetap/pfx/status" && m.text() == "offline"));
    assert!(msgs
        .iter()
        .any(|m| m.topic == "fleet/pfx/status" && m.text() == "online"));
    sub.wait_for(|m| m.topic == "fleet/pfx/edges", WAIT)
        .expect("edges under the new prefix");
    // The old prefix keeps only its `offline`; what was retained there moved with the prefix.
    let old = retained(broker.port(), "edgetap/pfx/#");
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        ["edgetap/pfx/status"],
        "only status is left under the old prefix"
    );
    assert_eq!(old["edgetap/pfx/status"].text(), "offline");
    let new = retained(broker.port(), "fleet/pfx/#");
    for leaf in ["status", "info", "config", "gpio/18"] {
        assert!(
            new.contains_key(&format!("fleet/pfx/{leaf}")),
            "{leaf} retained under the new prefix: {:?}",
            new.keys()
        );
    }
    // Subscribed under the new prefix only.
    publish(
        broker.port(),
        "edgetap/pfx/config/set",
        br#"{"_request":"old"}"#,
        false,
    );
    publish(
        broker.port(),
        "fleet/pfx/config/set",
        br#"{"_request":"new"}"#,
        false,
    );
    let r = sub
        .wait_for(|m| m.topic.ends_with("/config/result"), WAIT)
        .map(|m| json(&m))
        .expect("result");
    assert_eq!(
        r,
        serde_json::json!({"request":"new","version":2,"ok":true})
    );
    assert!(agent.is_running());
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
}

#[test]
fn a_restart_with_another_prefix_and_an_input_gone_clears_what_the_last_run_left() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "moved", &signal, broker.port(), "");
    let looping = ["--set", "sampler.replay.loop=true"];
    let sub = Subscriber::connect(broker.port(), "+/moved/#");
    let agent = AgentProcess::start(&config, &looping);
    sub.wait_for(|m| m.topic == "edgetap/moved/gpio/27", WAIT)
        .expect("levels published");
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
    let before = retained(broker.port(), "edgetap/moved/#");
    assert!(
        before.contains_key("edgetap/moved/info"),
        "{:?}",
        before.keys()
    );

    // The config file changes while the agent is stopped: another prefix, GPIO 27 gone.
    let text = std::fs::read_to_string(&config).unwrap();
    let without_27 = text.replace("[[inputs]]\npin = 27\nlockout_us = 50000\n", "");
    assert_ne!(text, without_27);
    std::fs::write(&config, without_27).unwrap();
    let args = [looping[0], looping[1], "--set", "mqtt.topic_prefix=fleet"];
    let agent = AgentProcess::start(&config, &args);
    sub.wait_for(|m| m.topic == "fleet/moved/gpio/18", WAIT)
        .expect("levels under the new prefix");
    std::thread::sleep(Duration::from_millis(500));

    let old = retained(broker.port(), "edgetap/moved/#");
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        ["edgetap/moved/status"],
        "the last run's info, config and levels are cleared"
    );
    let new = retained(broker.port(), "fleet/moved/#");
    assert!(new.contains_key("fleet/moved/gpio/17"), "{:?}", new.keys());
    assert!(!new.contains_key("fleet/moved/gpio/27"), "{:?}", new.keys());
    agent.signal("TERM");
    let exit = agent.wait(WAIT);
    assert!(exit.status.success(), "{}", exit.stderr);
    assert!(
        exit.stderr.contains("clearing retained topics"),
        "{}",
        exit.stderr
    );
}

#[test]
fn moving_to_another_broker_and_prefix_clears_the_old_prefix_on_the_old_broker() {
    let old_broker = Mosquitto::start();
    let new_broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "mv", &signal, old_broker.port(), "");
    let sub = Subscriber::connect(old_broker.port(), "edgetap/mv/#");
    let agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    sub.wait_for(|m| m.topic == "edgetap/mv/gpio/18", WAIT)
        .expect("levels published");
    let patch = format!(
        r#"{{"_request":"mv","mqtt":{{"port":{},"topic_prefix":"fleet"}}}}"#,
        new_broker.port()
    );
    publish(
        old_broker.port(),
        "edgetap/mv/config/set",
        patch.as_bytes(),
        false,
    );
    let on_new = Subscriber::connect(new_broker.port(), "fleet/mv/#");
    on_new
        .wait_for(|m| m.topic == "fleet/mv/gpio/18", WAIT)
        .expect("levels on the new broker under the new prefix");

    let old = retained(old_broker.port(), "edgetap/mv/#");
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        ["edgetap/mv/status"],
        "the old broker keeps only the old prefix's status"
    );
    assert_eq!(old["edgetap/mv/status"].text(), "offline");
    agent.signal("TERM");
    assert!(agent.wait(WAIT).status.success());
}
