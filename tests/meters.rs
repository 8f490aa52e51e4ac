//! A 37 Hz pulse meter end to end on the emulated board with a real mosquitto: its meter topic
//! every `interval_s`, no gpio topic, no binary sensor, no edges, a Home Assistant total in the
//! Energy dashboard's terms; its total survives a clean restart exactly and a `kill -9` within
//! `persist_s`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use edgetap::vcd::{TraceBuilder, FS_PER_US};
use serde_json::Value;
use support::agent::AgentProcess;
use support::{Mosquitto, Msg, Subscriber};

const PIN: u8 = 22;
/// 37 Hz: a rise every 27 000 µs (a multiple of the 50 µs sample period, so edge times are
/// exact), high for 10 ms, from 100 ms on.
const PERIOD_US: u64 = 27_000;
const FIRST_US: u64 = 100_000;
const SIGNAL_US: u64 = 6_000_000;

fn rises_until(t_us: u64) -> u64 {
    if t_us < FIRST_US {
        0
    } else {
        (t_us - FIRST_US) / PERIOD_US + 1
    }
}

fn signal(dir: &Path) -> PathBuf {
    let mut b = TraceBuilder::new();
    b.initial(PIN, 0);
    let mut t = FIRST_US;
    while t + 10_000 < SIGNAL_US {
        b.change_us(t, PIN, 1);
        b.change_us(t + 10_000, PIN, 0);
        t += PERIOD_US;
    }
    b.end_at(u128::from(SIGNAL_US) * FS_PER_US);
    let path = dir.join("meter.vcd");
    let file = std::fs::File::create(&path).unwrap();
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).unwrap();
    path
}

fn config(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("agent.toml");
    let text = format!(
        r#"device_id = "meter-1"
state_dir = "{state}"
[sampler]
backend = "emulated"
period_us = 50
block_samples = 100
buffer_ms = 50
[sampler.emulated]
board = "pi3"
signal = "{signal}"
realtime = true
[[inputs]]
pin = {PIN}
name = "House"
[inputs.meter]
pulses_per_unit = 1000
unit = "kWh"
interval_s = 2
persist_s = 1
[mqtt]
port = {port}
"#,
        state = dir.join("state").display(),
        signal = signal(dir).display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn json(m: &Msg) -> Value {
    serde_json::from_str(&m.text()).unwrap_or_else(|e| panic!("{}: {e}", m.topic))
}

fn meters(msgs: &[Msg]) -> Vec<Value> {
    let topic = format!("edgetap/meter-1/gpio/{PIN}/meter");
    msgs.iter().filter(|m| m.topic == topic).map(json).collect()
}

fn saved_pulses(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("state/meter-totals.json")).expect("totals file");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["pulses"][PIN.to_string()].as_u64().expect("pin's pulses")
}

#[test]
fn a_37_hz_meter_publishes_its_total_and_keeps_it_across_restarts() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), broker.port());
    let sub = Subscriber::connect(broker.port(), "#");

    // First run: the whole signal (until an interval after its end reads no frequency; the
    // emulated board may lag behind real time on a busy machine), then a clean stop.
    let signal_rises = rises_until(SIGNAL_US - 10_001);
    let agent = AgentProcess::start(&cfg, &[]);
    let mut msgs = sub.collect_until(
        |got| {
            meters(got)
                .iter()
                .any(|r| r["pulses"].as_u64() > Some(0) && r["frequency_hz"].is_null())
        },
        Duration::from_secs(60),
    );
    agent.signal("INT");
    let exit = agent.wait(Duration::from_secs(20));
    assert!(exit.status.success(), "{}", exit.stderr);
    msgs.extend(sub.collect_until(|_| false, Duration::from_millis(1500)));

    let readings = meters(&msgs);
    assert!(
        readings.len() >= 3,
        "one at start and every 2 s: {readings:?}"
    );
    assert_eq!(readings[0]["pulses"], 0, "{:?}", readings[0]);
    let last = readings.last().unwrap();
    // Every rise, unless the busy machine made the emulated board lose samples (a gap: its
    // pulses are not there to count).
    let total = last["pulses"].as_u64().expect("pulses");
    let lost = exit.stderr.contains("samples lost");
    assert!(
        total == signal_rises || (lost && total < signal_rises),
        "{total} of {signal_rises} rises: {last}"
    );
    assert_eq!(last["total"].as_f64(), Some(total as f64 / 1000.0));
    assert_eq!(
        (&last["unit"], &last["rate_unit"]),
        (&"kWh".into(), &"kW".into())
    );
    // A full interval of the square wave: exact frequency and widths.
    let full = &readings[1];
    let f = full["frequency_hz"].as_f64().expect("frequency");
    assert!((f - 1e6 / PERIOD_US as f64).abs() < 1e-6, "{full}");
    assert_eq!(full["period_us"]["min"], PERIOD_US);
    assert_eq!(full["period_us"]["max"], PERIOD_US);
    assert_eq!(full["high_us"]["min"], 10_000);
    let rate = full["rate"].as_f64().unwrap();
    assert!((rate - f / 1000.0 * 3600.0).abs() < 1e-6, "{full}");
    // Meter inputs publish neither edges nor a level by default.
    assert!(
        !msgs
            .iter()
            .any(|m| m.topic == format!("edgetap/meter-1/gpio/{PIN}")),
        "no gpio/{PIN} topic"
    );
    for m in msgs.iter().filter(|m| m.topic == "edgetap/meter-1/edges") {
        let v = json(m);
        let edges = v["edges"].as_array().cloned().unwrap_or_default();
        assert!(
            edges.iter().all(|e| e["pin"] != PIN),
            "an edge of the meter: {v}"
        );
    }
    assert!(
        !msgs
            .iter()
            .any(|m| m.topic.contains("binary_sensor") && m.topic.contains(&format!("gpio{PIN}"))),
        "no binary sensor for a meter input"
    );
    let energy = msgs
        .iter()
        .find(|m| m.topic == format!("homeassistant/sensor/edgetap_meter-1_gpio{PIN}_total/config"))
        .map(json)
        .expect("a total sensor");
    assert_eq!(energy["device_class"], "energy");
    assert_eq!(energy["unit_of_measurement"], "kWh");
    assert_eq!(energy["state_class"], "total_increasing");
    assert_eq!(saved_pulses(dir.path()), total, "saved at the clean stop");

    // Second run: the total goes on from exactly where it stopped.
    let agent = AgentProcess::start(&cfg, &[]);
    let first = sub
        .wait_for(
            |m| m.topic.ends_with("/meter") && !m.retain,
            Duration::from_secs(10),
        )
        .expect("a reading at start");
    assert_eq!(
        json(&first)["pulses"].as_u64(),
        Some(total),
        "{}",
        first.text()
    );
    // Then a kill -9 after 3.5 s: the saved total lags the count by at most persist_s.
    std::thread::sleep(Duration::from_millis(3500));
    agent.signal("KILL");
    let _ = agent.wait(Duration::from_secs(10));
    let saved = saved_pulses(dir.path());
    let published = meters(&sub.drain())
        .iter()
        .filter_map(|r| r["pulses"].as_u64())
        .max()
        .unwrap_or(total);
    assert!(saved >= total, "never back: {saved} < {total}");
    assert!(
        saved + 37 * 2 >= published,
        "saved {saved}, last published {published}: more than persist_s lost"
    );
}
