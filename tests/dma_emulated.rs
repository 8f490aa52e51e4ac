//! The DMA sampler on the emulated board, in lock-step (deterministic): the same signal through
//! the replay sampler and through the agent's own control blocks executed by the emulator gives
//! the same edges within one period, for every chain shape; faults are reported, never silent.

use std::path::{Path, PathBuf};

use edgetap::config::{self, Config, ConfigSource};
use edgetap::edges::Edge;
use edgetap::pipeline::Pipeline;
use edgetap::sampler::{self, Block, SamplerCounters};
use edgetap::shutdown::Shutdown;

/// UTC µs that signal time 0 maps to in both samplers.
const START_US: u64 = 1_764_000_000_000_000;

/// Writes `seconds` of the demo signal (bouncing switch 17, 1 kHz train 18, slow sensor 27).
fn signal(dir: &Path, seconds: u64) -> PathBuf {
    let path = dir.join("signal.vcd");
    let file = std::fs::File::create(&path).expect("create vcd");
    edgetap::signal::write_vcd(
        &edgetap::signal::demo(seconds),
        std::io::BufWriter::new(file),
    )
    .expect("write vcd");
    path
}

/// A config for `backend` sampling `signal`, with extra TOML lines under [sampler]; the
/// emulated board is a Pi 3 (the one that sustains every period tested; tests that want
/// another set `sampler.emulated.board` after loading).
fn config(backend: &str, signal: &Path, sampler_extra: &str, pins: &[u8]) -> Config {
    let inputs: String = pins
        .iter()
        .map(|p| format!("[[inputs]]\npin = {p}\n"))
        .collect();
    let text = format!(
        r#"device_id = "t"
[sampler]
backend = "{backend}"
{sampler_extra}
[sampler.replay]
signal = "{sig}"
realtime = false
start_us = {START_US}
[sampler.emulated]
board = "pi3"
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

/// What a sampler produced over `until_us` of signal time.
#[derive(Debug, Default)]
struct Run {
    /// UTC µs of the first sample (the DMA sampler drops the block filling the pacing FIFO).
    first_us: u64,
    edges: Vec<Edge>,
    lost: u64,
    /// (previous block end, this block's start, samples lost before it), for every gap.
    gaps: Vec<(u64, u64, u64)>,
    counters: SamplerCounters,
}

fn run(config: &Config, until_us: u64) -> Run {
    run_until_stopped(config, until_us, &Shutdown::new())
}

/// Samples `config` until signal time `until_us` (or `stop`), collecting edges, gaps and the
/// sampler's counters.
fn run_until_stopped(config: &Config, until_us: u64, stop: &Shutdown) -> Run {
    let mut s = sampler::open(config).expect("sampler opens");
    let mut pipeline = Pipeline::new(&config.inputs);
    let mut block = Block::new(s.period_us(), s.words());
    let mut out = Run::default();
    let mut prev_end: Option<u64> = None;
    // Bounded: signal time only moves forward, and the bound is generous.
    for _ in 0..10_000_000 {
        if !s.next_block(&mut block, stop).expect("next block") {
            break;
        }
        if prev_end.is_none() {
            out.first_us = block.t0_us;
        }
        if block.lost_before > 0 {
            out.lost += block.lost_before;
            out.gaps
                .push((prev_end.unwrap_or(0), block.t0_us, block.lost_before));
        }
        pipeline.process(&block, &mut out.edges);
        prev_end = Some(block.end_us());
        if block.t0_us >= START_US + until_us {
            break;
        }
    }
    out.counters = s.counters();
    out.edges.retain(|e| e.t_us < START_US + until_us);
    out
}

/// Asserts both runs saw the same edges after the later start: same pins and levels in order,
/// each within `tol_us`.
fn assert_same_runs(replay: &Run, dma: &Run, tol_us: u64, what: &str) {
    // An edge just after the later start may be reported by one run as the initial state.
    let from = replay.first_us.max(dma.first_us) + 2 * tol_us;
    let keep =
        |r: &Run| -> Vec<Edge> { r.edges.iter().filter(|e| e.t_us >= from).copied().collect() };
    assert_same_edges(&keep(replay), &keep(dma), tol_us, what);
}

/// Asserts both edge lists have the same pins and levels in order, each within `tol_us`.
fn assert_same_edges(replay: &[Edge], dma: &[Edge], tol_us: u64, what: &str) {
    assert!(!replay.is_empty(), "{what}: the signal must have edges");
    let n = replay.len().min(dma.len());
    assert!(
        replay.len() == dma.len(),
        "{what}: replay {} edges, dma {} edges",
        replay.len(),
        dma.len()
    );
    for (i, (r, d)) in replay.iter().zip(dma).take(n).enumerate() {
        assert!(
            r.pin == d.pin && r.level == d.level && r.t_us.abs_diff(d.t_us) <= tol_us,
            "{what}: edge {i}: replay {r:?}, dma {d:?} (tolerance {tol_us} µs)"
        );
    }
}

#[test]
fn every_chain_shape_gives_the_replayed_edges_on_both_boards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let until = 150_000;
    for board in ["pi3", "pi4"] {
        for pacer in ["pwm", "pcm"] {
            for (pins, shape) in [
                (&[17u8, 18, 27][..], "block_samples = 100\nbuffer_ms = 5"),
                (&[17, 18, 27, 40][..], "block_samples = 250\nbuffer_ms = 20"),
            ] {
                let extra = format!("period_us = 5\npacer = \"{pacer}\"\n{shape}");
                let replay = run(&config("replay", &sig, &extra, pins), until);
                let mut emu = config("emulated", &sig, &extra, pins);
                emu.sampler.emulated.board = match board {
                    "pi3" => edgetap::config::BoardKind::Pi3,
                    _ => edgetap::config::BoardKind::Pi4,
                };
                let dma = run(&emu, until);
                let what = format!("{board} {pacer} pins {pins:?} {shape:?}");
                assert_eq!(dma.lost, 0, "{what}: nothing lost in lock-step");
                assert_same_runs(&replay, &dma, 5, &what);
            }
        }
    }
}

#[test]
fn other_periods_are_paced_by_the_programmed_clock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    for period in [1u32, 2, 7, 20] {
        let extra = format!("period_us = {period}\nblock_samples = 200\nbuffer_ms = 50");
        let replay = run(&config("replay", &sig, &extra, &[17, 18]), 60_000);
        let dma = run(&config("emulated", &sig, &extra, &[17, 18]), 60_000);
        assert_same_runs(&replay, &dma, u64::from(period), &format!("{period} µs"));
    }
}

#[test]
fn an_overrun_is_a_gap_with_the_exact_sample_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let extra = "period_us = 5\nblock_samples = 100\nbuffer_ms = 5\n\
                 [sampler.emulated.faults]\nconsumer_stall_ms = 20\nconsumer_stall_after_ms = 50";
    let dma = run(&config("emulated", &sig, extra, &[17, 18]), 200_000);
    assert!(dma.counters.overruns >= 1, "{:?}", dma.counters);
    assert!(
        dma.lost >= 2_000,
        "a 20 ms stall over a 5 ms ring loses ≥ 3000 samples: {}",
        dma.lost
    );
    for &(prev_end, start, lost) in &dma.gaps {
        assert_eq!(
            start - prev_end,
            lost * 5,
            "gap {prev_end}..{start} holds exactly {lost} samples"
        );
    }
    // Outside the gap, the edges are the replayed ones.
    let replay = run(
        &config(
            "replay",
            &sig,
            extra.split('[').next().unwrap_or(""),
            &[17, 18],
        ),
        200_000,
    );
    let outside = |e: &&Edge| {
        dma.gaps
            .iter()
            .all(|&(a, b, _)| e.t_us < a || e.t_us >= b + 1000)
    };
    let expected: Vec<Edge> = replay.edges.iter().filter(outside).copied().collect();
    let got: Vec<Edge> = dma.edges.iter().filter(outside).copied().collect();
    assert_same_edges(&expected, &got, 5, "around an overrun");
}

#[test]
fn the_timer_wrap_is_invisible_in_timestamps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let base = "period_us = 5\nblock_samples = 100\nbuffer_ms = 10";
    let wrap = format!("{base}\n[sampler.emulated.faults]\nclo_before_wrap_us = 40000");
    let replay = run(&config("replay", &sig, base, &[17, 18]), 100_000);
    let dma = run(&config("emulated", &sig, &wrap, &[17, 18]), 100_000);
    assert_eq!(dma.lost, 0);
    assert_same_runs(&replay, &dma, 5, "across the 2^32 µs wrap");
}

#[test]
fn stalls_and_jitter_keep_timestamps_within_one_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let base = "period_us = 20\nblock_samples = 100\nbuffer_ms = 20";
    let faulty = format!(
        "{base}\n[sampler.emulated.faults]\nstall_us = 16\nstall_every_ms = 20\njitter_ns = 2000"
    );
    let replay = run(&config("replay", &sig, base, &[17, 18]), 150_000);
    let dma = run(&config("emulated", &sig, &faulty, &[17, 18]), 150_000);
    assert_eq!(
        dma.lost, 0,
        "a 16 µs stall is absorbed by the FIFO, not a loss"
    );
    assert_same_runs(&replay, &dma, 20, "with stalls and jitter");
}

#[test]
fn a_channel_reset_by_someone_else_is_counted_and_restarted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let extra = "period_us = 5\nblock_samples = 100\nbuffer_ms = 10\n\
                 [sampler.emulated.faults]\nreset_after_ms = 50";
    let dma = run(&config("emulated", &sig, extra, &[17, 18]), 150_000);
    assert_eq!(dma.counters.restarts, 1, "{:?}", dma.counters);
    assert_eq!(
        dma.gaps.len(),
        1,
        "the restart is one reported gap: {:?}",
        dma.gaps
    );
    // Edges keep coming after the restart.
    let late = dma
        .edges
        .iter()
        .filter(|e| e.t_us > START_US + 100_000)
        .count();
    assert!(late > 50, "edges after the restart: {late}");
}

#[test]
fn unusable_boards_and_signals_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    // This machine is no Pi: the dma backend says so and names the key.
    let e = sampler::open(&config("dma", &sig, "period_us = 5", &[17]))
        .err()
        .expect("no Pi here")
        .to_string();
    assert!(
        e.starts_with("sampler.backend: ") && e.contains("not a Raspberry Pi"),
        "{e}"
    );
    // A missing signal file is named.
    let mut c = config("emulated", &sig, "period_us = 5", &[17]);
    c.sampler.emulated.signal = dir.path().join("missing.vcd");
    let e = sampler::open(&c).err().expect("no signal").to_string();
    assert!(e.contains("missing.vcd"), "{e}");
}

#[test]
fn samplers_name_what_they_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let replay = sampler::open(&config("replay", &sig, "", &[17])).expect("replay opens");
    assert_eq!(replay.model(), "replay");
    for (kind, model) in [
        (
            edgetap::config::BoardKind::Pi3,
            "Raspberry Pi 3B (emulated)",
        ),
        (
            edgetap::config::BoardKind::Pi4,
            "Raspberry Pi 4B (emulated)",
        ),
    ] {
        let mut c = config("emulated", &sig, "", &[17]);
        c.sampler.emulated.board = kind;
        let s = sampler::open(&c).expect("emulated board opens");
        assert_eq!(s.model(), model);
    }
}

#[test]
fn a_period_the_engine_cannot_sustain_is_reported_late_with_gaps_not_as_overruns() {
    // 1 µs needs two control blocks per µs; a Pi 4's engine does ~1.8 M CB/s (556 ns each), so
    // every block takes ~11 % longer than its samples × the period. Validation refuses that on
    // the emulated Pi 4; with backend = "dma" the board is only known at run time, which is
    // what this stands for.
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let extra = "period_us = 1\nblock_samples = 1000\nbuffer_ms = 20";
    for (board, late) in [
        (edgetap::config::BoardKind::Pi4, true),
        (edgetap::config::BoardKind::Pi3, false),
        (edgetap::config::BoardKind::Pi1, false),
    ] {
        let mut c = config("emulated", &sig, extra, &[17, 18]);
        c.sampler.emulated.board = board;
        let dma = run(&c, 40_000);
        let what = format!("{board:?}: {:?} gaps {:?}", dma.counters, dma.gaps);
        assert_eq!(dma.counters.overruns, 0, "{what}");
        if !late {
            assert_eq!(dma.counters.late_blocks, 0, "{what}");
            assert_eq!(dma.lost, 0, "{what}");
            continue;
        }
        assert!(dma.counters.late_blocks >= 20, "{what}");
        // Each late block leaves a gap of its missing time (~112 µs per 1000 µs block).
        assert!(dma.gaps.len() >= 20, "{what}");
        for &(prev_end, start, lost) in dma.gaps.iter().skip(1) {
            assert!((80..=140).contains(&lost), "{what}");
            assert!(start - prev_end >= lost.saturating_sub(1), "{what}");
        }
    }
}

#[test]
fn validation_states_the_shortest_period_the_emulated_board_sustains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    let text = format!(
        "device_id = \"t\"\n[sampler]\nbackend = \"emulated\"\nperiod_us = 1\n\
         [sampler.emulated]\nboard = \"pi4\"\nsignal = \"{}\"\n[[inputs]]\npin = 17\n",
        sig.display()
    );
    let err = config::load(
        ConfigSource::Text {
            toml: &text,
            base_dir: dir.path(),
        },
        &[],
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("sampler.period_us") && msg.contains("2 µs"),
        "{msg}"
    );
}

/// Blocks of 125, 250 or 333 samples (× 1 or 2 words) start off a 16-byte boundary: the block
/// copy must still give exactly the replayed edges (on a Pi it also must not fault: the copy is
/// aligned 32-bit loads only, which the unit tests of the copy check access by access).
#[test]
fn odd_block_sizes_give_the_replayed_edges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    for block_samples in [125u32, 250, 333] {
        for pins in [&[17u8, 18][..], &[17, 18, 40][..]] {
            let extra = format!("period_us = 5\nblock_samples = {block_samples}\nbuffer_ms = 10");
            let replay = run(&config("replay", &sig, &extra, pins), 80_000);
            let dma = run(&config("emulated", &sig, &extra, pins), 80_000);
            let what = format!("block_samples {block_samples}, pins {pins:?}");
            assert_eq!(dma.lost, 0, "{what}");
            assert_same_runs(&replay, &dma, 5, &what);
        }
    }
}

/// Runs `config` like [`run`] on another thread; if no result comes within a generous wall-clock
/// bound the sampler is told to shut down and the test fails (a hung sampler, not a hung test).
fn run_bounded(config: Config, until_us: u64, what: &str) -> Run {
    let shutdown = Shutdown::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = shutdown.clone();
    let t = std::thread::spawn(move || {
        let out = run_until_stopped(&config, until_us, &stop);
        let _ = tx.send(out);
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(out) => {
            let _ = t.join();
            out
        }
        Err(_) => {
            shutdown.trigger();
            let _ = t.join();
            panic!("{what}: no end within 60 s: the sampler hangs");
        }
    }
}

/// Audio takes the pacer's clock 50 ms in: the chain waits forever with ACTIVE set. The
/// watchdog notices, counts a stall, reprograms the pacer, restarts the chain and reports the
/// lost time as one gap; edges keep coming afterwards.
#[test]
fn a_stolen_pacer_is_a_counted_stall_and_a_gap_not_a_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    for pacer in ["pcm", "pwm"] {
        let extra = format!(
            "period_us = 5\nblock_samples = 100\nbuffer_ms = 10\npacer = \"{pacer}\"\n\
             [sampler.emulated.faults]\npacer_stolen_after_ms = 50"
        );
        let dma = run_bounded(config("emulated", &sig, &extra, &[17, 18]), 200_000, pacer);
        assert_eq!(dma.counters.stalls, 1, "{pacer}: {:?}", dma.counters);
        assert_eq!(dma.gaps.len(), 1, "{pacer}: one gap: {:?}", dma.gaps);
        let (prev_end, start, lost) = dma.gaps[0];
        assert!(
            start - prev_end >= 10_000 && lost * 5 + 5 >= start - prev_end,
            "{pacer}: the gap covers the stall: {:?}",
            dma.gaps
        );
        let late = dma
            .edges
            .iter()
            .filter(|e| e.t_us > START_US + 120_000)
            .count();
        assert!(late > 50, "{pacer}: edges after the recovery: {late}");
    }
}

#[test]
fn pcm_is_the_default_pacer() {
    assert_eq!(
        edgetap::config::SamplerConfig::default().pacer,
        edgetap::config::Pacer::Pcm,
        "PWM is the analogue audio output"
    );
}

/// Another user's chain runs on channel 7 of an emulated Pi 4 (HDMI audio took it in
/// pigpio#579): naming it is refused unless `dma_force`; leaving the channel unset picks a
/// free one and leaves the other chain running.
#[test]
fn a_channel_someone_else_runs_on_is_never_taken_unasked() {
    use edgetap::emu::{EmuEvent, EmuOptions, Emulator, Mode, StopReason};
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = signal(dir.path(), 1);
    // Channel 7 is Linux's to hand out on a Pi 4 (mask 0x01f5), the firmware's on a Pi 3.
    let pi4 = |mut c: Config| {
        c.sampler.emulated.board = edgetap::config::BoardKind::Pi4;
        c
    };
    let faults = "[sampler.emulated.faults]\nforeign_channels = [7]";
    let extra =
        format!("period_us = 5\nblock_samples = 100\nbuffer_ms = 10\ndma_channel = 7\n{faults}");
    let e = sampler::open(&pi4(config("emulated", &sig, &extra, &[17])))
        .err()
        .expect("channel 7 is taken")
        .to_string();
    assert!(
        e.starts_with("sampler.dma_channel: channel 7 is in use") && e.contains("dma_force"),
        "{e}"
    );
    let forced = format!("period_us = 5\nblock_samples = 100\nbuffer_ms = 10\ndma_channel = 7\ndma_force = true\n{faults}");
    let dma = run(&pi4(config("emulated", &sig, &forced, &[17, 18])), 20_000);
    assert!(!dma.edges.is_empty(), "forced onto channel 7, it samples");

    // Unset: attach to an emulator we can watch.
    let unset = format!("period_us = 5\nblock_samples = 100\nbuffer_ms = 10\n{faults}");
    let mut c = pi4(config("emulated", &sig, &unset, &[17, 18]));
    let mut opts = EmuOptions::from_config(&c.sampler.emulated).expect("options");
    opts.mode = Mode::Realtime;
    let emu = Emulator::start(opts).expect("emulator");
    c.sampler.emulated.mem = Some(emu.mem_path().to_path_buf());
    {
        let mut s = sampler::open(&c).expect("a free channel is picked");
        let mut block = Block::new(s.period_us(), s.words());
        for _ in 0..3 {
            assert!(s.next_block(&mut block, &Shutdown::new()).expect("block"));
        }
    }
    let events = emu.events();
    let ours: Vec<u8> = events
        .iter()
        .filter_map(|(_, e)| match e {
            EmuEvent::ChannelStarted { ch, cb } if *cb >= 0xC010_0000 => Some(*ch),
            _ => None,
        })
        .collect();
    assert_eq!(
        ours,
        vec![8],
        "the highest free channel of mask 0x1f5: {events:?}"
    );
    assert!(
        !events.iter().any(|(_, e)| matches!(
            e,
            EmuEvent::ChannelStopped { ch: 7, why } if *why != StopReason::End
        )),
        "the other user's chain on 7 was left alone: {events:?}"
    );
}

/// Writes `ms` of a binary counter on GPIO 2–15, one count every 50 µs: any two samples at least
/// 50 µs apart differ on some pin, so every gap hides a change.
fn counter_signal(dir: &Path, ms: u64) -> PathBuf {
    let mut b = edgetap::vcd::TraceBuilder::new();
    for pin in 2..=15 {
        b.drive(pin);
    }
    let steps = ms * 1000 / 50;
    for n in 1..=steps {
        let t_fs = u128::from(n * 50) * edgetap::vcd::FS_PER_US;
        let changed = n ^ (n - 1);
        for bit in (0..14u8).filter(|&k| changed >> k & 1 == 1) {
            b.change(t_fs, 2 + bit, (n >> bit & 1) as u8);
        }
    }
    b.end_at(u128::from(ms * 1000) * edgetap::vcd::FS_PER_US);
    let path = dir.join("counter.vcd");
    let file = std::fs::File::create(&path).expect("create vcd");
    edgetap::signal::write_vcd(&b.build(), std::io::BufWriter::new(file)).expect("write vcd");
    path
}

#[test]
fn an_edge_after_an_overrun_is_marked_as_after_the_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = counter_signal(dir.path(), 300);
    let extra = "period_us = 5\nblock_samples = 100\nbuffer_ms = 5\n\
                 [sampler.emulated.faults]\nconsumer_stall_ms = 20\nconsumer_stall_after_ms = 50";
    let pins: Vec<u8> = (2..=15).collect();
    let dma = run(&config("emulated", &sig, extra, &pins), 200_000);
    assert!(dma.lost >= 2_000, "the stall loses samples: {}", dma.lost);
    assert!(dma.gaps.iter().any(|g| g.2 >= 10), "{:?}", dma.gaps);
    // The counter moved during every gap: some pin's first edge after it spans the gap.
    for &(_, start, lost) in dma.gaps.iter().filter(|g| g.2 >= 10) {
        let at_start: Vec<&Edge> = dma.edges.iter().filter(|e| e.t_us == start).collect();
        assert!(
            !at_start.is_empty(),
            "a change across the {lost}-sample gap at {start}"
        );
        assert!(
            at_start.iter().all(|e| e.after_gap),
            "edges at the first sample after the gap are marked: {at_start:?}"
        );
    }
    // Every other edge is an ordinary one.
    let starts: Vec<u64> = dma.gaps.iter().map(|g| g.1).collect();
    let stray: Vec<&Edge> = dma
        .edges
        .iter()
        .filter(|e| e.after_gap != starts.contains(&e.t_us))
        .collect();
    assert!(stray.is_empty(), "marks off the gaps: {stray:?}");
    assert!(dma.edges.iter().filter(|e| !e.after_gap).count() > 1000);
}
