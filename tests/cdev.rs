//! The character-device backend without a chip: crafted `gpio_v2_line_event` records go the
//! whole way to batches, and must give exactly what the sampling path (blocks → decoder →
//! filters → batcher, the path replay and DMA take) gives for the same signal.
//!
//! With a real chip: `EDGETAP_TEST_GPIOCHIP=/dev/gpiochip0 cargo test --test cdev` (optionally
//! `EDGETAP_TEST_GPIO_LINES=17,27`, default 17; the lines must be free) also requests the lines
//! through the real backend. Without the variable that test says so and passes.

use std::path::Path;

use edgetap::block::{Block, LevelWords};
use edgetap::config::{load_str, Config};
use edgetap::edges::batch::{Batch, Batcher};
use edgetap::edges::{Edge, EdgeChunk, PinLevel};
use edgetap::hw::lineplan::EventClock;
use edgetap::pipeline::Pipeline;
use edgetap::sampler::cdev::assemble::{Assembler, VOUCH_MARGIN_US};
use edgetap::sampler::cdev::clock::EventTimes;
use edgetap::sampler::cdev::event::{decode_all, encode, LineEvent};
use proptest::prelude::*;

/// The watched pins, in config order.
const PINS: [u8; 2] = [17, 4];

/// UTC µs of the signal's first sample.
const T0: u64 = 1_700_000_000_000_000;

/// CLOCK_MONOTONIC (µs) at the first sample: the machine booted a while ago.
const MONO0: u64 = 86_400_000_000;

/// A config watching [`PINS`] with the given glitch and lockout times.
fn config(filters: [(u64, u64); 2]) -> Config {
    let mut text = String::from("device_id = \"pi\"\n[sampler]\nbackend = \"cdev\"\n");
    for (pin, (glitch, lockout)) in PINS.iter().zip(filters) {
        text.push_str(&format!(
            "[[inputs]]\npin = {pin}\nglitch_us = {glitch}\nlockout_us = {lockout}\n"
        ));
    }
    load_str(&text, Path::new("/")).expect("valid config")
}

/// A signal sampled every µs: bit n of each word = GPIO n.
fn words(levels: &[[u8; 2]]) -> Vec<u32> {
    levels
        .iter()
        .map(|l| {
            PINS.iter()
                .zip(l)
                .fold(0u32, |w, (&p, &v)| w | u32::from(v) << p)
        })
        .collect()
}

/// The reference: the signal cut into blocks at `cuts`, decoded, filtered, batched.
fn by_blocks(c: &Config, levels: &[[u8; 2]], cuts: &[usize]) -> Batch {
    let mut pipeline = Pipeline::new(&c.filter_inputs());
    let mut batcher = Batcher::new(1, 1_000_000, u64::MAX);
    let w = words(levels);
    let mut edges = Vec::new();
    for (a, b) in spans(cuts, w.len()) {
        let block = Block {
            t0_us: T0 + a as u64,
            period_us: 1,
            words: LevelWords::One,
            levels: w[a..b].to_vec(),
            lost_before: 0,
        };
        edges.clear();
        let events = pipeline.process(&block, &mut edges);
        if let Some(l) = events.initial {
            batcher.set_levels(&l);
        }
        for &e in &edges {
            assert!(batcher.push(e).is_none());
        }
    }
    batcher.flush().unwrap_or_default()
}

/// The kernel's records for the signal's edges: sample i at MONO0 + i µs (plus a few ns),
/// numbered per request and per line; edges at one instant in either order.
fn records(levels: &[[u8; 2]], ns: &[u16], swap: &[bool]) -> Vec<(usize, LineEvent)> {
    let mut out = Vec::new();
    let (mut seqno, mut line_seqno) = (0u32, [0u32; 2]);
    for i in 1..levels.len() {
        let mut at: Vec<usize> = (0..2)
            .filter(|&k| levels[i][k] != levels[i - 1][k])
            .collect();
        if swap[i % swap.len()] {
            at.reverse();
        }
        for k in at {
            seqno += 1;
            line_seqno[k] += 1;
            let e = LineEvent {
                timestamp_ns: (MONO0 + i as u64) * 1000 + u64::from(ns[i % ns.len()] % 1000),
                level: levels[i][k],
                offset: u32::from(PINS[k]),
                seqno,
                line_seqno: line_seqno[k],
            };
            out.push((i, e));
        }
    }
    out
}

/// The same signal through the character-device path: the request reads the first sample's
/// levels, then each read returns the records of the samples up to a cut, as bytes, and the
/// wall clock is read just after that cut's last sample.
fn by_events(c: &Config, levels: &[[u8; 2]], recs: &[(usize, LineEvent)], cuts: &[usize]) -> Batch {
    let mut pipeline = Pipeline::new(&c.filter_inputs());
    let mut batcher = Batcher::new(1, 1_000_000, u64::MAX);
    let mut times = EventTimes::new(EventClock::Monotonic);
    times.estimate(T0, MONO0 * 1000, T0);
    let mut asm = Assembler::new();
    let first: Vec<(u8, u8)> = PINS.iter().zip(levels[0]).map(|(&p, l)| (p, l)).collect();
    asm.requested(&first, T0);
    let (mut chunk, mut edges, mut decoded) = (EdgeChunk::default(), Vec::new(), Vec::new());
    for (a, b) in spans(cuts, levels.len()) {
        let bytes: Vec<u8> = recs
            .iter()
            .filter(|(i, _)| (a..b).contains(i))
            .flat_map(|(_, e)| encode(e))
            .collect();
        decoded.clear();
        decode_all(&bytes, &mut decoded).expect("whole records");
        let now = T0 + (b - 1) as u64 + VOUCH_MARGIN_US;
        asm.chunk(&decoded, |ns| times.utc_us(ns), now, &mut chunk);
        edges.clear();
        let events = pipeline.process_chunk(&chunk, &mut edges);
        if let Some(l) = events.initial {
            batcher.set_levels(&l);
        }
        if let Some(g) = events.gap {
            batcher.push_gap(g);
        }
        for &e in &edges {
            assert!(batcher.push(e).is_none());
        }
    }
    batcher.flush().unwrap_or_default()
}

/// `[0, n)` cut at the (sorted, deduplicated) interior points `cuts`.
fn spans(cuts: &[usize], n: usize) -> Vec<(usize, usize)> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| 1 + c % n.max(1))
        .filter(|&c| c < n)
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut bounds = vec![0];
    bounds.extend(at);
    bounds.push(n);
    bounds.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Two pins' levels, one sample per µs, changing in runs of 1-30 µs.
fn signal() -> impl Strategy<Value = Vec<[u8; 2]>> {
    (
        prop::collection::vec((0u8..=1, 0u8..=1, 1usize..=30), 1..40),
        0u8..=3,
    )
        .prop_map(|(runs, first)| {
            let mut out = vec![[first & 1, first >> 1]];
            for (a, b, len) in runs {
                out.extend(std::iter::repeat([a, b]).take(len));
            }
            out
        })
}

fn filters() -> impl Strategy<Value = [(u64, u64); 2]> {
    let one = (
        prop_oneof![Just(0u64), 1u64..=40],
        prop_oneof![Just(0u64), 1u64..=60],
    );
    (one.clone(), one).prop_map(|(a, b)| [a, b])
}

proptest! {
    #[test]
    fn events_give_the_batches_the_samples_give(
        levels in signal(),
        f in filters(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        read_cuts in prop::collection::vec(any::<usize>(), 0..8),
        ns in prop::collection::vec(any::<u16>(), 1..8),
        swap in prop::collection::vec(any::<bool>(), 1..8),
    ) {
        let c = config(f);
        let reference = by_blocks(&c, &levels, &cuts);
        let recs = records(&levels, &ns, &swap);
        let got = by_events(&c, &levels, &recs, &read_cuts);
        let mut want_levels = reference.levels.clone();
        let mut got_levels = got.levels.clone();
        want_levels.sort_by_key(|l| l.pin);
        got_levels.sort_by_key(|l| l.pin);
        prop_assert_eq!(got_levels, want_levels);
        // Filters release edges per pin in time order; across pins the order depends on when
        // they are told time has passed (block or read boundaries): compare pin by pin.
        let per_pin = |b: &Batch| {
            let mut e = b.edges.clone();
            e.sort_by_key(|e| e.pin); // stable: each pin's edges keep their order
            e
        };
        prop_assert_eq!(per_pin(&got), per_pin(&reference));
        prop_assert!(got.gaps.is_empty());
    }
}

#[test]
fn an_overflow_reaches_the_batch_as_a_gap_of_lost_edges() {
    // Pin 17 toggles every 10 µs for 200 µs; pin 4 rises once at 150 µs.
    let levels: Vec<[u8; 2]> = (0..200usize)
        .map(|i| [((i / 10) % 2) as u8, u8::from(i >= 150)])
        .collect();
    let c = config([(0, 0), (0, 0)]);
    let recs = records(&levels, &[0], &[false]);
    // The buffer overflowed: the oldest four records (10-40 µs, all on pin 17) were dropped.
    let kept = &recs[4..];
    let got = by_events(&c, &levels, kept, &[120]);
    assert_eq!(got.gaps.len(), 1, "{:?}", got.gaps);
    let gap = got.gaps[0];
    assert_eq!((gap.edges, gap.samples), (4, 0), "edges, not samples");
    assert_eq!(gap.to_us, T0 + 50, "the first record after the hole");
    // Pin 17 went up and down twice unseen; its rise at 50 µs is the first edge after the gap.
    let first = got.edges[0];
    assert_eq!((first.pin, first.level, first.t_us), (17, 1, T0 + 50));
    assert!(first.after_gap);
    assert!(got.edges[1..].iter().all(|e| !e.after_gap));
    // From there on, everything is as sampled, down to the levels the batch ends with.
    let reference = by_blocks(&c, &levels, &[]);
    let tail: Vec<_> = reference
        .edges
        .iter()
        .filter(|e| e.t_us >= T0 + 50)
        .collect();
    let got_tail: Vec<_> = got
        .edges
        .iter()
        .map(|e| Edge {
            after_gap: false,
            ..*e
        })
        .collect();
    assert_eq!(got_tail.iter().collect::<Vec<_>>(), tail);
    assert_eq!(got.levels, reference.levels);
    assert_eq!(
        got.levels,
        [
            PinLevel { pin: 4, level: 1 },
            PinLevel { pin: 17, level: 1 }
        ]
    );
}

#[test]
fn a_real_chip_when_one_is_named() {
    let Ok(chip) = std::env::var("EDGETAP_TEST_GPIOCHIP") else {
        eprintln!(
            "skipped: set EDGETAP_TEST_GPIOCHIP=/dev/gpiochip0 (and EDGETAP_TEST_GPIO_LINES, \
             default 17) to request real GPIO lines"
        );
        return;
    };
    use edgetap::sampler::{self, Source};
    use edgetap::shutdown::Shutdown;
    let lines = std::env::var("EDGETAP_TEST_GPIO_LINES").unwrap_or_else(|_| "17".into());
    let pins: Vec<u8> = lines
        .split(',')
        .map(|p| {
            p.trim()
                .parse()
                .expect("EDGETAP_TEST_GPIO_LINES: comma-separated numbers")
        })
        .collect();
    let mut text = format!(
        "device_id = \"pi\"\n[sampler]\nbackend = \"cdev\"\n[sampler.cdev]\nchip = \"{chip}\"\n"
    );
    for p in &pins {
        text.push_str(&format!("[[inputs]]\npin = {p}\n"));
    }
    let c = load_str(&text, Path::new("/")).expect("valid config");
    let Source::Edges(mut source) = sampler::open_source(&c).expect("lines requested") else {
        panic!("cdev is an edge source");
    };
    let shutdown = Shutdown::new();
    let mut chunk = EdgeChunk::default();
    assert!(source
        .next_chunk(&mut chunk, &shutdown)
        .expect("events read"));
    let initial = chunk
        .initial
        .clone()
        .expect("the first chunk starts every pin");
    let mut started: Vec<u8> = initial.iter().map(|l| l.pin).collect();
    started.sort_unstable();
    let mut want = pins.clone();
    want.sort_unstable();
    assert_eq!(started, want);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_micros() as u64;
    for _ in 0..20 {
        source
            .next_chunk(&mut chunk, &shutdown)
            .expect("events read");
        assert!(chunk.edges.windows(2).all(|w| w[0].t_us <= w[1].t_us));
    }
    assert!(
        chunk.until_us.abs_diff(now) < 2_000_000,
        "event times mapped to UTC: {} vs now {now}",
        chunk.until_us
    );
    // A line beyond the chip is refused when the chip is opened, naming the field.
    drop(source);
    let info = edgetap::hw::gpiochip::chip_info(Path::new(&chip)).expect("chip info");
    if let Ok(beyond) = u8::try_from(info.lines) {
        if beyond <= edgetap::edges::MAX_PIN {
            let text = format!("{text}[[inputs]]\npin = {beyond}\n");
            let c = load_str(&text, Path::new("/")).expect("valid config");
            let e = sampler::open_source(&c)
                .expect_err("no such line")
                .to_string();
            assert!(e.contains("inputs[].pin"), "{e}");
        }
    }
}
