//! Remote configuration end to end, against a real mosquitto: patches on
//! `config/set` (device and group), results on `config/result`, the retained `config`, live
//! application without losing edges, persistence across restarts, and connection rollback.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::agent::{demo_signal, AgentProcess};
use support::remote::{
    assert_contiguous, batches, captured, json, result, write_config, Edge, START_US, WAIT,
};
use support::{publish, Mosquitto, Subscriber};

#[test]
fn patch_applies_live_and_untouched_pins_lose_no_edge() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 6);
    let body = "";
    let config = write_config(dir.path(), "live", &signal, broker.port(), body);
    let old = captured(&config, 1000);
    let new = captured(&config, 0);
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let start = format!("sampler.replay.start_us={START_US}");
    let agent = AgentProcess::start(&config, &["--set", &start]);
    let mut msgs = sub.collect_until(|m| m.iter().any(|m| m.topic == "edgetap/live/edges"), WAIT);
    assert!(!msgs.is_empty(), "no edges:\n{}", agent.stderr());
    // Signal time ~2 s: between two door events, so the next ones show the new filter.
    std::thread::sleep(Duration::from_millis(2000));
    let patch = r#"{"_request":"g0","inputs":[{"pin":17,"glitch_us":0},{"pin":18},
        {"pin":27,"lockout_us":50000}]}"#;
    publish(
        broker.port(),
        "edgetap/live/config/set",
        patch.as_bytes(),
        false,
    );
    let exit = agent.wait(Duration::from_secs(30));
    assert!(exit.status.success(), "{}", exit.stderr);
    msgs.extend(sub.collect_until(|m| m.last().is_some_and(|m| m.payload == b"offline"), WAIT));
    let res: Vec<Value> = msgs
        .iter()
        .filter(|m| m.topic == "edgetap/live/config/result")
        .map(json)
        .collect();
    assert_eq!(
        res,
        vec![serde_json::json!({"request":"g0","version":1,"ok":true})]
    );

    let got = batches(&msgs, "live");
    assert_contiguous(&got);
    let edges: Vec<Edge> = got.iter().flat_map(|b| b.edges.clone()).collect();
    // Untouched pins: exactly the edges of a capture with the old config, none lost.
    for pin in [18u8, 27] {
        let want: Vec<Edge> = old.iter().filter(|e| e.pin == pin).copied().collect();
        let have: Vec<Edge> = edges.iter().filter(|e| e.pin == pin).copied().collect();
        assert!(want.len() > 3, "pin {pin} too quiet");
        let diverge = have.iter().zip(&want).position(|(a, b)| a != b);
        assert!(
            have.len() == want.len() && diverge.is_none(),
            "pin {pin}: {} edges published, {} captured, first difference at {diverge:?}: {:?} vs {:?}",
            have.len(),
            want.len(),
            &have[..3.min(have.len())],
            &want[..3.min(want.len())]
        );
    }
    // Pin 17: the bounces the old glitch filter hid appear after the change, as captured
    // with the new filter (one edge at the switch-over may differ from both).
    let in17 = |set: &[Edge], e: &Edge| set.contains(e);
    let p17: Vec<Edge> = edges.iter().filter(|e| e.pin == 17).copied().collect();
    let fresh: Vec<&Edge> = p17.iter().filter(|e| !in17(&old, e)).collect();
    assert!(fresh.len() >= 4, "new filter not visible: {p17:?}");
    let foreign = fresh.iter().filter(|e| !in17(&new, e)).count();
    assert!(foreign <= 1, "{fresh:?}");

    // The retained config shows the new version and filter.
    let late = Subscriber::connect(broker.port(), "edgetap/live/config");
    let cfg = late.wait_for(|m| m.retain, WAIT).expect("retained config");
    let cfg = json(&cfg);
    assert_eq!(cfg["version"], 1);
    assert_eq!(cfg["config"]["inputs"][0]["glitch_us"], 0);
}

#[test]
fn invalid_patches_are_rejected_with_field_and_reason_while_sampling_goes_on() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let config = write_config(dir.path(), "bad", &signal, broker.port(), "");
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let mut agent = AgentProcess::start(&config, &["--set", "sampler.replay.loop=true"]);
    let mut msgs = sub.collect_until(|m| m.iter().any(|m| m.topic == "edgetap/bad/edges"), WAIT);
    assert!(!msgs.is_empty(), "no edges:\n{}", agent.stderr());
    let big = format!(r#"{{"_request":"big","x":"{}"}}"#, "a".repeat(1 << 20));
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("bad JSON", b"{\"batch\":".to_vec(), "", "JSON"),
        ("not an object", b"[1,2]".to_vec(), "", "object"),
        ("non-UTF-8", b"{\"a\":\"\xff\xfe\"}".to_vec(), "", "UTF-8"),
        ("1 MiB", big.into_bytes(), "", "limit"),
        (
            "wrong type",
            br#"{"_request":"t","batch":{"max_edges":"many"}}"#.to_vec(),
            "batch.max_edges",
            "",
        ),
        (
            "unknown key",
            br#"{"_request":"u","batch":{"max_edgez":3}}"#.to_vec(),
            "batch.max_edgez",
            "unknown key",
        ),
        (
            "out of range",
            br#"{"_request":"r","inputs":[{"pin":17},{"pin":60}]}"#.to_vec(),
            "inputs[1].pin",
            "not a GPIO",
        ),
        (
            "local-only",
            br#"{"_request":"l","device_id":"other"}"#.to_vec(),
            "device_id",
            "local-only",
        ),
        (
            "bad rollback",
            br#"{"_request":"b","mqtt":{"rollback_after_s":1}}"#.to_vec(),
            "mqtt.rollback_after_s",
            "out of range",
        ),
    ];
    for (what, payload, field, reason) in cases {
        publish(broker.port(), "edgetap/bad/config/set", &payload, false);
        let r = result(&sub, "bad", &mut msgs);
        assert_eq!(r["ok"], false, "{what}: {r}");
        assert_eq!(r["error"]["field"], field, "{what}: {r}");
        let why = r["error"]["reason"].as_str().unwrap_or_default();
        assert!(!why.is_empty() && why.contains(reason), "{what}: {r}");
    }
    // Nothing moved: the next good patch is version 1.
    publish(
        broker.port(),
        "edgetap/bad/config/set",
        br#"{"_request":"ok","batch":{"max_edges":32}}"#,
        false,
    );
    assert_eq!(
        result(&sub, "bad", &mut msgs),
        serde_json::json!({"request":"ok","version":1,"ok":true})
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(agent.is_running(), "{}", agent.stderr());
    msgs.extend(sub.drain());
    let got = batches(&msgs, "bad");
    assert!(got.len() > 20);
    assert_contiguous(&got);
    assert!(
        got.iter().all(|b| b.gaps.is_empty()),
        "sampling was interrupted"
    );
    // The 1 kHz pulse train on GPIO 18 never paused.
    let t18: Vec<u64> = got
        .iter()
        .flat_map(|b| b.edges.iter().filter(|e| e.pin == 18).map(|e| e.t_us))
        .collect();
    assert!(
        t18.windows(2).all(|w| w[1] - w[0] <= 1000),
        "a pause on GPIO 18"
    );
    agent.signal("TERM");
    let exit = agent.wait(WAIT);
    assert!(exit.status.success(), "{}", exit.stderr);
}

#[test]
fn versions_are_shared_by_group_and_device_patches_and_stale_ones_are_refused() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 2);
    let members = ["lab-1", "lab-2", "lab-3"];
    let mut agents = Vec::new();
    for name in members {
        let config = write_config(
            dir.path(),
            name,
            &signal,
            broker.port(),
            r#"groups = ["lab"]"#,
        );
        agents.push(AgentProcess::start(
            &config,
            &["--set", "sampler.replay.loop=true"],
        ));
    }
    let other = write_config(
        dir.path(),
        "office-1",
        &signal,
        broker.port(),
        r#"groups = ["office"]"#,
    );
    agents.push(AgentProcess::start(
        &other,
        &["--set", "sampler.replay.loop=true"],
    ));
    let sub = Subscriber::connect(broker.port(), "edgetap/+/config/#");
    // Every agent is subscribed once its retained config (version 0) is out.
    let ready = sub.collect_until(
        |m| m.iter().filter(|m| m.topic.ends_with("/config")).count() >= 4,
        WAIT,
    );
    assert_eq!(ready.len(), 4, "{ready:?}");

    let results = |n: usize| -> Vec<(String, Value)> {
        let got = sub.collect_until(
            |m| m.iter().filter(|m| m.topic.ends_with("/result")).count() >= n,
            WAIT,
        );
        let mut r: Vec<(String, Value)> = got
            .iter()
            .filter(|m| m.topic.ends_with("/result"))
            .map(|m| (m.topic.split('/').nth(1).unwrap().to_string(), json(m)))
            .collect();
        r.sort_by(|a, b| a.0.cmp(&b.0));
        r
    };

    let group = "edgetap/group/lab/config/set";
    publish(
        broker.port(),
        group,
        br#"{"_request":"g5","_version":5,"batch":{"max_edges":32}}"#,
        false,
    );
    let r = results(3);
    assert_eq!(r.len(), 3, "{r:?}");
    for ((device, v), want) in r.iter().zip(members) {
        assert_eq!(device, want);
        assert_eq!(
            v,
            &serde_json::json!({"request":"g5","version":5,"ok":true})
        );
    }
    // A device patch at the same version is stale; without a version it takes the next one.
    let lab1 = "edgetap/lab-1/config/set";
    publish(
        broker.port(),
        lab1,
        br#"{"_request":"d5","_version":5}"#,
        false,
    );
    let r = results(1);
    assert_eq!(r[0].1["error"]["field"], "_version", "{r:?}");
    publish(
        broker.port(),
        lab1,
        br#"{"_request":"d","batch":{"max_edges":16}}"#,
        false,
    );
    assert_eq!(results(1)[0].1["version"], 6);
    // The group's next patch at version 6 is stale for lab-1 only: one shared sequence.
    publish(
        broker.port(),
        group,
        br#"{"_request":"g6","_version":6}"#,
        false,
    );
    let r = results(3);
    assert_eq!(r[0].1["ok"], false, "{r:?}");
    assert_eq!(
        (r[1].1["ok"].clone(), r[2].1["ok"].clone()),
        (true.into(), true.into())
    );
    // The device in another group heard nothing.
    let rest = sub.collect_until(|_| false, Duration::from_millis(500));
    assert!(rest
        .iter()
        .all(|m| !m.topic.starts_with("edgetap/office-1/config/result")));
    for mut a in agents {
        assert!(a.is_running(), "{}", a.stderr());
        a.signal("TERM");
        assert!(a.wait(WAIT).status.success());
    }
}
