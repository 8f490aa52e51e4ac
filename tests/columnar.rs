//! The columnar batch format end to end, against a real mosquitto: a subscriber decodes
//! columnar batches back to the same edges as the object format carries for the same signal
//! (with the library's decoder and with the README's Python and JavaScript consumers), and a
//! remote patch switches the format live without a hole in `seq` or a lost edge.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use edgetap::edges::Edge;
use edgetap::wire::{decode_batch, BatchPayload};
use support::agent::{demo_signal, AgentProcess};
use support::remote::{captured, result, write_config, START_US, WAIT};
use support::{publish, Mosquitto, Msg, Subscriber};

/// The batches of `device` among `msgs`, by seq, with their payloads.
fn batches(msgs: &[Msg], device: &str) -> BTreeMap<u64, (BatchPayload, Vec<u8>)> {
    let topic = format!("edgetap/{device}/edges");
    msgs.iter()
        .filter(|m| m.topic == topic)
        .map(|m| {
            let b = decode_batch(&m.payload).unwrap_or_else(|e| panic!("{}: {e}", m.text()));
            (b.seq, (b, m.payload.clone()))
        })
        .collect()
}

/// Each pin's edges in their order (what both formats agree on).
fn per_pin(edges: &[Edge]) -> Vec<Edge> {
    let mut e = edges.to_vec();
    e.sort_by_key(|e| e.pin);
    e
}

/// Runs a README consumer (`interpreter examples/consumers/columnar.<ext>`) on `payloads`, one
/// per line; returns its edges per seq, or `None` when the interpreter is not installed.
fn consumer(interpreter: &str, ext: &str, payloads: &[&[u8]]) -> Option<BTreeMap<u64, Vec<Edge>>> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/consumers/columnar.{ext}"));
    let mut child = match Command::new(interpreter)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("{interpreter}: {e}"),
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let input: Vec<u8> = payloads
        .iter()
        .flat_map(|p| p.iter().chain(b"\n"))
        .copied()
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("consumer output");
    writer.join().expect("writer").expect("write payloads");
    assert!(
        out.status.success(),
        "{interpreter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: BTreeMap<u64, Vec<Edge>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON edge");
        let edge: Edge = serde_json::from_value(v.clone()).expect("an edge");
        got.entry(v["seq"].as_u64().expect("seq"))
            .or_default()
            .push(edge);
    }
    Some(got)
}

#[test]
fn columnar_batches_decode_to_the_same_edges_as_object_batches_of_the_same_signal() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 3);
    let sub = Subscriber::connect(broker.port(), "edgetap/+/edges");
    let start = format!("sampler.replay.start_us={START_US}");
    let mut got = BTreeMap::new();
    for (device, format) in [("objects", "json"), ("columns", "columnar")] {
        let body = "";
        let config = write_config(dir.path(), device, &signal, broker.port(), body);
        let set_format = format!("batch.format={format}");
        let agent = AgentProcess::start(
            &config,
            &[
                "--set",
                &start,
                "--set",
                "sampler.replay.realtime=false",
                "--set",
                &set_format,
            ],
        );
        let exit = agent.wait(Duration::from_secs(60));
        assert!(exit.status.success(), "{}", exit.stderr);
        let msgs = sub.collect_until(|_| false, Duration::from_millis(500));
        got.insert(format, batches(&msgs, device));
    }
    let (objects, columns) = (&got["json"], &got["columnar"]);
    // Batches close on the signal's own time: the same batches, seq for seq, in both formats.
    assert!(objects.len() > 100, "{} batches", objects.len());
    assert_eq!(
        objects.keys().collect::<Vec<_>>(),
        columns.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        *objects.keys().last().unwrap() + 1,
        objects.len() as u64,
        "no hole"
    );
    let (mut object_bytes, mut column_bytes, mut edges) = (0, 0, 0);
    for (seq, (o, o_bytes)) in objects {
        let (c, c_bytes) = &columns[seq];
        assert_eq!((o.v, c.v), (1, 2));
        assert_eq!(c.edges, per_pin(&o.edges), "seq {seq}");
        assert_eq!(
            (&c.gaps, &c.rate_limited),
            (&o.gaps, &o.rate_limited),
            "seq {seq}"
        );
        (object_bytes, column_bytes) = (object_bytes + o_bytes.len(), column_bytes + c_bytes.len());
        edges += o.edges.len();
    }
    // The whole demo signal went through: every pin, ~2,000 edges/s.
    let all: Vec<Edge> = objects
        .values()
        .flat_map(|(o, _)| o.edges.clone())
        .collect();
    for pin in [17, 18, 27] {
        assert!(all.iter().any(|e| e.pin == pin), "pin {pin}");
    }
    assert!(edges > 5_000, "{edges} edges");
    // Sizes are the benchmark's figure; here only that the format does what it is for.
    assert!(
        column_bytes * 3 < object_bytes,
        "{column_bytes} vs {object_bytes} bytes"
    );

    // The README's consumers read both formats back to the same edges (in time order).
    let payloads = |set: &BTreeMap<u64, (BatchPayload, Vec<u8>)>| {
        set.values().map(|(_, p)| p.clone()).collect::<Vec<_>>()
    };
    let (o_payloads, c_payloads) = (payloads(objects), payloads(columns));
    for (interpreter, ext) in [("python3", "py"), ("node", "js")] {
        let from = |p: &[Vec<u8>]| {
            consumer(
                interpreter,
                ext,
                &p.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            )
        };
        let (Some(from_objects), Some(from_columns)) = (from(&o_payloads), from(&c_payloads))
        else {
            eprintln!("{interpreter} not installed: its consumer example is not run");
            continue;
        };
        assert_eq!(from_objects, from_columns, "{interpreter}");
        for (seq, (o, _)) in objects {
            let mut want = o.edges.clone();
            want.sort_by_key(|e| e.t_us);
            assert_eq!(
                from_columns.get(seq).cloned().unwrap_or_default(),
                want,
                "{interpreter} seq {seq}"
            );
        }
    }
}

#[test]
fn a_remote_patch_switches_the_format_live_without_a_hole_or_a_lost_edge() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let signal = demo_signal(dir.path(), 5);
    let config = write_config(dir.path(), "switch", &signal, broker.port(), "");
    let want = captured(&config, 1000);
    let sub = Subscriber::connect(broker.port(), "edgetap/#");
    let start = format!("sampler.replay.start_us={START_US}");
    let agent = AgentProcess::start(&config, &["--set", &start]);
    let mut msgs = sub.collect_until(
        |m| m.iter().any(|m| m.topic == "edgetap/switch/edges"),
        WAIT,
    );
    assert!(!msgs.is_empty(), "no edges:\n{}", agent.stderr());
    let to = |format: &str, request: &str, msgs: &mut Vec<Msg>| {
        std::thread::sleep(Duration::from_millis(1200));
        let patch = format!(r#"{{"_request":"{request}","batch":{{"format":"{format}"}}}}"#);
        publish(
            broker.port(),
            "edgetap/switch/config/set",
            patch.as_bytes(),
            false,
        );
        let r = result(&sub, "switch", msgs);
        assert_eq!(r["ok"], true, "{r}");
    };
    to("columnar", "c", &mut msgs);
    to("json", "j", &mut msgs);
    let exit = agent.wait(Duration::from_secs(30));
    assert!(exit.status.success(), "{}", exit.stderr);
    msgs.extend(sub.collect_until(|m| m.last().is_some_and(|m| m.payload == b"offline"), WAIT));

    let got = batches(&msgs, "switch");
    let seqs: Vec<u64> = got.keys().copied().collect();
    assert_eq!(
        seqs,
        (0..got.len() as u64).collect::<Vec<_>>(),
        "a batch is missing"
    );
    // Objects, then columns, then objects again: one switch each way, no batch in between.
    let versions: Vec<u32> = got.values().map(|(b, _)| b.v).collect();
    let switches: Vec<(u32, u32)> = versions
        .windows(2)
        .filter(|w| w[0] != w[1])
        .map(|w| (w[0], w[1]))
        .collect();
    assert_eq!(switches, [(1, 2), (2, 1)], "{versions:?}");
    let columnar = versions.iter().filter(|&&v| v == 2).count();
    assert!(columnar >= 20, "{columnar} columnar batches");
    // Every edge of the signal, exactly once, pin by pin, whichever format carried it.
    let have: Vec<Edge> = got.values().flat_map(|(b, _)| b.edges.clone()).collect();
    let want: Vec<Edge> = want
        .iter()
        .map(|e| Edge {
            pin: e.pin,
            level: e.level,
            t_us: e.t_us,
            after_gap: false,
        })
        .collect();
    assert_eq!(per_pin(&have), per_pin(&want));
}
