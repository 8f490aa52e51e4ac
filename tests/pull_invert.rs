//! `pull` and `invert` on the emulated board, in lock-step (deterministic): the agent's own
//! register writes set the pads' pulls, a VCD wire at `z` reads its pull, and an inverted input
//! reports the logical level through the whole pipeline.

use std::path::{Path, PathBuf};

use edgetap::config::{self, Config, ConfigSource, Pull};
use edgetap::edges::{Edge, PinLevel};
use edgetap::pipeline::Pipeline;
use edgetap::sampler::{self, Block, Sampler};
use edgetap::shutdown::Shutdown;

/// UTC µs that signal time 0 maps to.
const START_US: u64 = 1_764_000_000_000_000;
/// Signal time (µs) of the wires' steps: driven 0, `z`, driven 1, `z`, driven 0, end.
const STEPS_US: [u64; 5] = [20_000, 40_000, 60_000, 80_000, 100_000];
/// Sample period (µs), and the tolerance on an edge's time.
const PERIOD_US: u64 = 10;
const TOL_US: u64 = 3 * PERIOD_US;

/// Wires for GPIO 4, 17, 22 and 28, all stepping together through 0, z, 1, z, 0.
fn signal(dir: &Path) -> PathBuf {
    let [z1, one, z2, zero, end] = STEPS_US;
    let ids = ["a", "b", "c", "d"];
    let all = |v: &str| ids.iter().map(|i| format!("{v}{i}\n")).collect::<String>();
    let text = format!(
        "$timescale 1 us $end\n$scope module top $end\n\
         $var wire 1 a gpio4 $end\n$var wire 1 b gpio17 $end\n\
         $var wire 1 c gpio22 $end\n$var wire 1 d gpio28 $end\n\
         $upscope $end\n$enddefinitions $end\n\
         #0\n{}#{z1}\n{}#{one}\n{}#{z2}\n{}#{zero}\n{}#{end}\n",
        all("0"),
        all("z"),
        all("1"),
        all("z"),
        all("0"),
    );
    let path = dir.join("signal.vcd");
    std::fs::write(&path, text).expect("write vcd");
    path
}

/// A lock-step emulated `board` sampling `signal`, with `inputs` as TOML.
fn config(board: &str, signal: &Path, inputs: &str) -> Config {
    let text = format!(
        r#"device_id = "t"
[sampler]
backend = "emulated"
period_us = {PERIOD_US}
[sampler.emulated]
board = "{board}"
signal = "{sig}"
realtime = false
start_us = {START_US}
{inputs}"#,
        sig = signal.display()
    );
    config::load(
        ConfigSource::Text {
            toml: &text,
            base_dir: signal.parent().expect("dir"),
        },
        &[],
    )
    .expect("valid config")
}

/// What the pipeline reported: the initial levels and the edges, by pin.
#[derive(Debug, Default)]
struct Run {
    initial: Vec<PinLevel>,
    edges: Vec<Edge>,
}

impl Run {
    /// The edges of `pin` as (level, signal time µs).
    fn of(&self, pin: u8) -> Vec<(u8, u64)> {
        self.edges
            .iter()
            .filter(|e| e.pin == pin)
            .map(|e| (e.level, e.t_us - START_US))
            .collect()
    }

    fn initial(&self, pin: u8) -> Option<u8> {
        self.initial.iter().find(|l| l.pin == pin).map(|l| l.level)
    }
}

/// Feeds `s` through a pipeline on `config` until signal time `until_us`.
fn feed(s: &mut dyn Sampler, pipeline: &mut Pipeline, until_us: u64, out: &mut Run) {
    let mut block = Block::new(s.period_us(), s.words());
    let stop = Shutdown::new();
    for _ in 0..1_000_000 {
        if !s.next_block(&mut block, &stop).expect("next block") {
            break;
        }
        let ev = pipeline.process(&block, &mut out.edges);
        if let Some(initial) = ev.initial {
            out.initial.extend(initial);
        }
        if block.end_us() >= START_US + until_us {
            break;
        }
    }
}

fn run(config: &Config) -> Run {
    let mut s = sampler::open(config).expect("sampler opens");
    let mut pipeline = Pipeline::new(&config.inputs);
    let mut out = Run::default();
    feed(s.as_mut(), &mut pipeline, STEPS_US[4], &mut out);
    out
}

/// Asserts `got` is `want` with each time within the tolerance.
fn assert_edges(got: &[(u8, u64)], want: &[(u8, u64)], what: &str) {
    assert_eq!(
        got.iter().map(|e| e.0).collect::<Vec<_>>(),
        want.iter().map(|e| e.0).collect::<Vec<_>>(),
        "{what}: levels of {got:?}, expected {want:?}"
    );
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.1.abs_diff(w.1) <= TOL_US,
            "{what}: {got:?}, expected {want:?}"
        );
    }
}

#[test]
fn a_floating_wire_reads_its_pull_on_every_board() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path());
    let [z1, one, z2, zero, _] = STEPS_US;
    // Pulled up: high while floating. Pulled down or no pull: low while floating.
    let up = [(1, z1), (0, zero)];
    let down = [(1, one), (0, z2)];
    for board in ["pi1", "pi3", "pi4"] {
        let inputs = "[[inputs]]\npin = 17\npull = \"up\"\n\
                      [[inputs]]\npin = 22\npull = \"down\"\n\
                      [[inputs]]\npin = 28\npull = \"none\"\n\
                      [[inputs]]\npin = 4\n";
        let r = run(&config(board, &sig, inputs));
        assert_edges(&r.of(17), &up, &format!("{board} gpio17 pull up"));
        assert_edges(&r.of(22), &down, &format!("{board} gpio22 pull down"));
        assert_edges(&r.of(28), &down, &format!("{board} gpio28 no pull"));
        // "keep": GPIO 4's reset default is a pull-up.
        assert_edges(&r.of(4), &up, &format!("{board} gpio4 keep"));
    }
}

#[test]
fn the_same_floating_wire_differs_with_pull_up_and_pull_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path());
    let with = |pull: &str| {
        let inputs = format!("[[inputs]]\npin = 22\npull = \"{pull}\"\n");
        run(&config("pi3", &sig, &inputs)).of(22)
    };
    let (up, down, keep) = (with("up"), with("down"), with("keep"));
    assert_ne!(up, down);
    assert_eq!(up.len(), 2);
    assert_eq!(down.len(), 2);
    // GPIO 22 resets pulled down: "keep" reads as "down".
    assert_eq!(keep.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 0]);
    assert_edges(&keep, &[(1, STEPS_US[1]), (0, STEPS_US[2])], "keep");
}

#[test]
fn a_pull_changed_while_sampling_takes_effect_on_the_running_board() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path());
    for board in ["pi1", "pi4"] {
        let config = config(board, &sig, "[[inputs]]\npin = 17\npull = \"down\"\n");
        let mut s = sampler::open(&config).expect("sampler opens");
        let mut pipeline = Pipeline::new(&config.inputs);
        let mut out = Run::default();
        // Floating and pulled down until 30 ms: low.
        feed(s.as_mut(), &mut pipeline, 30_000, &mut out);
        assert!(out.of(17).is_empty(), "{board}: {:?}", out.of(17));
        // Pulled up from then on. The ring already holds samples taken before the change (in
        // lock-step the engine may run ahead of the consumer), so the first float may still
        // read low; the second (60–80 ms) reads high: the fall comes at 80 ms, not 60.
        s.set_pulls(&[(17, Pull::Up)]).expect("pulls set");
        feed(s.as_mut(), &mut pipeline, STEPS_US[4], &mut out);
        let edges = out.of(17);
        assert_eq!(
            edges.iter().map(|e| e.0).collect::<Vec<_>>(),
            vec![1, 0],
            "{board}: {edges:?}"
        );
        assert!(
            (30_000..=STEPS_US[1] + TOL_US).contains(&edges[0].1),
            "{board}: {edges:?}"
        );
        assert!(
            edges[1].1.abs_diff(STEPS_US[3]) <= TOL_US,
            "{board}: {edges:?}"
        );
    }
}

#[test]
fn an_inverted_input_reports_the_logical_level_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path());
    let plain = run(&config(
        "pi4",
        &sig,
        "[[inputs]]\npin = 22\npull = \"down\"\nglitch_us = 50\n",
    ));
    let inverted = run(&config(
        "pi4",
        &sig,
        "[[inputs]]\npin = 22\npull = \"down\"\nglitch_us = 50\ninvert = true\n",
    ));
    assert_eq!(plain.initial(22), Some(0));
    assert_eq!(inverted.initial(22), Some(1));
    let flipped: Vec<_> = plain.of(22).iter().map(|&(l, t)| (1 - l, t)).collect();
    assert_eq!(flipped.len(), 2);
    assert_edges(&inverted.of(22), &flipped, "inverted");
    assert_eq!(
        inverted.of(22)[0].0,
        0,
        "the wire rises: the logical level falls"
    );
}

mod support;

use std::time::Duration;
use support::agent::AgentProcess;
use support::{publish, Mosquitto, Subscriber};

/// The agent on a realtime emulated Pi 4 with GPIO 17 left floating (`z`) throughout: remote
/// patches of `pull` and `invert` show on the retained `gpio/17` at once.
#[test]
fn remote_pull_and_invert_changes_apply_live_through_the_agent() {
    let broker = Mosquitto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = dir.path().join("float.vcd");
    std::fs::write(
        &sig,
        "$timescale 1 ms $end\n$var wire 1 a gpio17 $end\n$enddefinitions $end\n\
         #0\nza\n#600000\n",
    )
    .expect("write vcd");
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            r#"device_id = "pulls"
state_dir = "{state}"
[sampler]
backend = "emulated"
period_us = 100
block_samples = 100
[sampler.emulated]
board = "pi4"
signal = "{sig}"
[[inputs]]
pin = 17
pull = "down"
[mqtt]
host = "127.0.0.1"
port = {port}
"#,
            state = dir.path().join("state").display(),
            sig = sig.display(),
            port = broker.port()
        ),
    )
    .expect("write config");
    let sub = Subscriber::connect(broker.port(), "edgetap/pulls/#");
    let agent = AgentProcess::start(&config, &[]);
    let wait = Duration::from_secs(20);
    let level = |want: &str| {
        sub.wait_for(
            |m| m.topic == "edgetap/pulls/gpio/17" && m.payload == want.as_bytes(),
            wait,
        )
    };
    assert!(
        level("OFF").is_some(),
        "pulled down: OFF\n{}",
        agent.stderr()
    );
    publish(
        broker.port(),
        "edgetap/pulls/config/set",
        br#"{"inputs":{"17":{"pull":"up"}}}"#,
        false,
    );
    assert!(level("ON").is_some(), "pulled up: ON\n{}", agent.stderr());
    publish(
        broker.port(),
        "edgetap/pulls/config/set",
        br#"{"inputs":{"17":{"invert":true}}}"#,
        false,
    );
    assert!(level("OFF").is_some(), "inverted: OFF\n{}", agent.stderr());
    agent.signal("INT");
    let exit = agent.wait(Duration::from_secs(30));
    assert!(exit.status.success(), "{}", exit.stderr);
}
