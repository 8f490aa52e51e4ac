//! Flood protection against a real mosquitto: one pin toggling at 250,000 edges/s next to two
//! normal pins. The flood pin's rate limit (default 25,000 edges/s, one-second burst) engages:
//! its delivered edges never exceed what the bucket allows over any span, the dropped edges are
//! counted exactly in the batches' `rate_limited` markers and in the agent's stats, its level
//! ends true; the other pins lose no edge, and no batch is missing. A new limit sent over MQTT
//! applies live to that pin alone.

mod support;

use std::time::Duration;

use support::agent::{logged, AgentProcess};
use support::flood::{
    assert_same, batches, capture, changes, collect_until_exit, config, marked, of, within_bucket,
    write_signal, Batch, Edge, FLOOD, FLOOD_US, LIMIT, SLOW, SQUARE,
};
use support::remote::START_US;
use support::{publish, Mosquitto, Msg, Subscriber};

#[test]
fn a_pin_flooding_at_250000_edges_per_s_is_limited_and_the_others_lose_nothing() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let changes = changes();
    let signal = write_signal(dir.path(), &changes);
    let config = config(
        dir.path(),
        "flood",
        &signal,
        broker.port(),
        "[stats]\ninterval_s = 1\n",
    );
    let flood_in = changes[&FLOOD].len() as u64;
    assert!(flood_in >= 1_000_000, "{flood_in} flood edges");
    // What the agent must publish: capture runs the same pipeline with the same limits.
    let (want, captured_limited) = capture(&config);

    let sub = Subscriber::connect(broker.port(), "edgetap/flood/#");
    let mut agent = AgentProcess::start(&config, &[]);
    let got = collect_until_exit(&sub, &mut agent, Duration::from_secs(60));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    let batches = batches(&got, "flood");

    // The other pins: every edge of the signal, at its time.
    assert_same(
        &of(&batches, SQUARE),
        &changes[&SQUARE],
        "pin 17 lost nothing",
    );
    assert_same(&of(&batches, SLOW), &changes[&SLOW], "pin 27 lost nothing");

    // The flood pin: limited, within the bucket over every span, alternating, ending true.
    let flood = of(&batches, FLOOD);
    let times: Vec<u64> = flood.iter().map(|&(t, _)| t).collect();
    let span_s = (FLOOD_US.end - FLOOD_US.start) / 1_000_000 + 1;
    assert!(
        (flood.len() as u64) <= LIMIT * (1 + span_s),
        "{} flood edges delivered",
        flood.len()
    );
    assert!(
        flood.len() as u64 >= LIMIT * 4,
        "the limit lets its rate through"
    );
    within_bucket(&times, LIMIT).unwrap();
    assert!(
        flood.windows(2).all(|w| w[0].1 != w[1].1),
        "levels alternate"
    );
    assert_eq!(flood.first().map(|f| f.1), Some(1));
    let last_level = changes[&FLOOD].last().unwrap().1;
    assert_eq!(
        flood.last().map(|f| f.1),
        Some(last_level),
        "the level ends true"
    );
    let gpio = got
        .iter()
        .rev()
        .find(|m| m.topic == format!("edgetap/flood/gpio/{FLOOD}"));
    let on_off = if last_level == 1 { "ON" } else { "OFF" };
    assert_eq!(
        gpio.map(Msg::text).as_deref(),
        Some(on_off),
        "gpio/{FLOOD} ends true"
    );

    // The count: in the markers, only for the flood pin, equal to the agent's and capture's,
    // and with the delivered edges it makes every edge of the flood.
    let marked = marked(&batches);
    assert_eq!(marked.keys().copied().collect::<Vec<_>>(), vec![FLOOD]);
    let dropped = marked[&FLOOD];
    assert!(dropped > 0);
    assert_eq!(
        dropped,
        logged(&exit.stderr, "agent stopped", "rate_limited")
    );
    assert_eq!(dropped, captured_limited, "capture applies the same limit");
    assert_eq!(
        flood.len() as u64 + dropped,
        flood_in,
        "every flood edge accounted for"
    );
    assert!(
        exit.stderr.contains("input over its rate limit"),
        "the flood is logged"
    );
    // The stats name the flooding pin, and only it.
    let stats: serde_json::Value = got
        .iter()
        .rev()
        .find(|m| m.topic == "edgetap/flood/stats")
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .expect("a stats message");
    let total = stats["rate_limited"].as_u64().unwrap();
    assert!(total > 0 && total <= dropped, "{stats}");
    assert_eq!(
        stats["rate_limited_by_pin"],
        serde_json::json!({ FLOOD.to_string(): total }),
        "per pin: only the flood pin"
    );

    // And `capture` shows exactly what was published.
    let mut sorted: Vec<Edge> = batches.values().flat_map(|b| b.edges.clone()).collect();
    sorted.sort_unstable_by_key(|e| (e.pin, e.t_us));
    let mut want = want;
    want.sort_unstable_by_key(|e| (e.pin, e.t_us));
    assert!(
        sorted == want,
        "capture output equals what run publishes ({} vs {} edges)",
        sorted.len(),
        want.len()
    );
}

#[test]
fn a_new_limit_applies_live_to_that_pin_only() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let changes = changes();
    let signal = write_signal(dir.path(), &changes);
    // Pin 17 under a lockout that is always running on its 500 Hz square wave: rebuilding its
    // filter would show in its edges.
    let square = "lockout_us = 1500";
    let config = config(dir.path(), "relimit", &signal, broker.port(), square);
    let (want, _) = capture(&config);
    let want17: Vec<(u64, u8)> = want
        .iter()
        .filter(|e| e.pin == SQUARE)
        .map(|e| (e.t_us - START_US, e.level))
        .collect();
    assert!(
        want17.len() < changes[&SQUARE].len(),
        "the lockout hides edges"
    );

    let sub = Subscriber::connect(broker.port(), "edgetap/relimit/#");
    let mut agent = AgentProcess::start(&config, &[]);
    // Once the signal is past 1 s, the flood pin gets a limit of 1,000 edges/s.
    let past_1s = |m: &Msg| {
        m.topic == "edgetap/relimit/edges"
            && serde_json::from_slice::<Batch>(&m.payload)
                .is_ok_and(|b| b.edges.iter().any(|e| e.t_us >= START_US + 1_000_000))
    };
    let mut got = sub.collect_until(|m| m.last().is_some_and(past_1s), Duration::from_secs(20));
    assert!(got.last().is_some_and(past_1s), "{}", agent.stderr());
    // Lists are replaced whole: pins 17 and 27 are sent unchanged.
    let patch = format!(
        r#"{{"_request":"r1","inputs":[{{"pin":{SQUARE},"lockout_us":1500}},
            {{"pin":{FLOOD},"max_edges_per_s":1000}},{{"pin":{SLOW}}}]}}"#
    );
    publish(
        broker.port(),
        "edgetap/relimit/config/set",
        patch.as_bytes(),
        false,
    );
    got.extend(collect_until_exit(
        &sub,
        &mut agent,
        Duration::from_secs(60),
    ));
    let exit = agent.wait(Duration::from_secs(15));
    assert!(exit.status.success(), "{}", exit.stderr);
    let result = got
        .iter()
        .find(|m| m.topic == "edgetap/relimit/config/result")
        .map(Msg::text);
    assert_eq!(
        result.as_deref(),
        Some(r#"{"request":"r1","version":1,"ok":true}"#)
    );

    let batches = batches(&got, "relimit");
    // Untouched pins keep their state: exactly what the old config captures.
    assert_same(
        &of(&batches, SQUARE),
        &want17,
        "pin 17 kept its lockout state",
    );
    assert_same(&of(&batches, SLOW), &changes[&SLOW], "pin 27 lost nothing");

    // The flood pin: 25,000 edges/s before the change (its burst alone passes in the first
    // 0.1 s of flood), 1,000/s well after it; every edge still accounted for.
    let flood = of(&batches, FLOOD);
    let within = |r: std::ops::Range<u64>| flood.iter().filter(|e| r.contains(&e.0)).count();
    assert!(within(0..1_000_000) >= 25_000, "{}", within(0..1_000_000));
    let late = within(4_000_000..5_000_000);
    assert!(
        (900..=2_000).contains(&late),
        "{late} edges in the last second"
    );
    assert!(
        flood.windows(2).all(|w| w[0].1 != w[1].1),
        "levels alternate"
    );
    let marked = marked(&batches);
    assert_eq!(marked.keys().copied().collect::<Vec<_>>(), vec![FLOOD]);
    let flood_in = changes[&FLOOD].len() as u64;
    assert_eq!(
        flood.len() as u64 + marked[&FLOOD],
        flood_in,
        "every flood edge counted"
    );
    assert_eq!(
        marked[&FLOOD],
        logged(&exit.stderr, "agent stopped", "rate_limited")
    );
}
