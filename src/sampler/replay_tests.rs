//! Replay sampler tests: sampled words against a naive reference, layouts, looping, pacing,
//! shutdown and file errors.

use super::*;
use crate::vcd::TraceBuilder;
use proptest::prelude::*;
use std::path::PathBuf;

const US: u128 = FS_PER_US;

fn cfg(realtime: bool, loop_: bool) -> ReplayConfig {
    ReplayConfig {
        signal: PathBuf::new(),
        realtime,
        loop_,
        start_us: Some(1_000_000),
    }
}

/// Level at `t_fs` by scanning every change: the reference the sampler must match.
fn naive(trace: &Trace, t_fs: u128) -> u64 {
    trace
        .changes()
        .iter()
        .filter(|c| c.t_fs <= t_fs)
        .fold(trace.initial(), |w, c| {
            if c.level == 1 {
                w | 1 << c.pin
            } else {
                w & !(1 << c.pin)
            }
        })
}

/// Every sample of up to `max_blocks` blocks as (UTC µs, 64-bit word), checking block shape.
fn collect(s: &mut ReplaySampler, max_blocks: usize) -> Vec<(u64, u64)> {
    let mut block = Block::new(s.period_us(), s.words());
    let shutdown = Shutdown::new();
    let mut out = Vec::new();
    for _ in 0..max_blocks {
        if !s.next_block(&mut block, &shutdown).unwrap() {
            break;
        }
        assert_eq!(block.levels.len(), block.samples() * block.words.count());
        assert!(block.samples() >= 1);
        if let Some(&(last_t, _)) = out.last() {
            assert_eq!(block.t0_us, last_t + u64::from(block.period_us), "gapless");
        }
        out.extend((0..block.samples()).map(|i| (block.time_of(i), block.sample(i))));
    }
    out
}

fn trace_of(initial: u64, changes: &[(u128, u8, u8)], end_fs: u128) -> Trace {
    let mut b = TraceBuilder::new();
    for pin in 0..54u8 {
        b.initial(pin, (initial >> pin & 1) as u8);
    }
    for &(t, pin, level) in changes {
        b.change(t, pin, level);
    }
    b.end_at(end_fs);
    b.build()
}

#[test]
fn change_on_a_sample_instant_is_seen_by_that_sample() {
    let t = trace_of(
        0,
        &[(10 * US, 3, 1), (10 * US + 1, 4, 1), (20 * US, 3, 0)],
        20 * US,
    );
    let mut s = ReplaySampler::from_trace(t, &cfg(false, false), 5, 2, LevelWords::One).unwrap();
    let got = collect(&mut s, 100);
    let base = 1_000_000;
    assert_eq!(
        got,
        vec![
            (base, 0),
            (base + 5, 0),
            (base + 10, 1 << 3),
            (base + 15, 1 << 3 | 1 << 4),
            (base + 20, 1 << 4),
        ],
        "end time inclusive, last block shorter"
    );
}

#[test]
fn two_word_layout_for_high_pins() {
    let t = trace_of(1 << 40 | 1, &[(3 * US, 53, 1), (3 * US, 40, 0)], 4 * US);
    let mut s = ReplaySampler::from_trace(t, &cfg(false, false), 1, 16, LevelWords::Two).unwrap();
    let mut block = Block::new(1, LevelWords::Two);
    assert!(s.next_block(&mut block, &Shutdown::new()).unwrap());
    let w = |x: u64| [x as u32, (x >> 32) as u32];
    let expect: Vec<u32> = [
        1 << 40 | 1,
        1 << 40 | 1,
        1 << 40 | 1,
        1 << 53 | 1,
        1 << 53 | 1,
    ]
    .into_iter()
    .flat_map(w)
    .collect();
    assert_eq!(block.levels, expect);
    assert!(!s.next_block(&mut block, &Shutdown::new()).unwrap());
    // One word: GPLEV0 only.
    let t = trace_of(1 << 40 | 1, &[], 0);
    let mut s = ReplaySampler::from_trace(t, &cfg(false, false), 1, 16, LevelWords::One).unwrap();
    assert!(s.next_block(&mut block, &Shutdown::new()).unwrap());
    assert_eq!(block.levels, vec![1]);
}

#[test]
fn loop_continues_the_time_axis() {
    // 10 µs trace, period 3 µs: a pass is 4 samples (0, 3, 6, 9 µs), then time 0 again.
    let t = trace_of(0, &[(4 * US, 2, 1), (10 * US, 2, 0)], 10 * US);
    let mut s = ReplaySampler::from_trace(t, &cfg(false, true), 3, 5, LevelWords::One).unwrap();
    let got = collect(&mut s, 4);
    assert_eq!(got.len(), 20);
    let levels: Vec<u64> = got.iter().map(|&(_, w)| w >> 2).collect();
    assert_eq!(levels, [0, 0, 1, 1].repeat(5));
    let times: Vec<u64> = got.iter().map(|&(t, _)| t).collect();
    assert_eq!(
        times,
        (0..20).map(|k| 1_000_000 + 3 * k).collect::<Vec<_>>()
    );
    // An empty trace loops one period at a time.
    let t = trace_of(1, &[], 0);
    let mut s = ReplaySampler::from_trace(t, &cfg(false, true), 7, 3, LevelWords::One).unwrap();
    assert_eq!(collect(&mut s, 3).len(), 9);
}

#[test]
fn start_time_defaults_to_the_wall_clock() {
    let mut c = cfg(false, false);
    c.start_us = None;
    let before = now_us();
    let mut s = ReplaySampler::from_trace(trace_of(0, &[], 0), &c, 5, 4, LevelWords::One).unwrap();
    let got = collect(&mut s, 2);
    assert_eq!(got.len(), 1);
    assert!(got[0].0 >= before && got[0].0 <= now_us());
}

#[test]
fn bad_settings_are_rejected() {
    let err = |p, b| {
        ReplaySampler::from_trace(Trace::default(), &cfg(false, false), p, b, LevelWords::One)
    };
    assert!(
        matches!(err(0, 10), Err(SamplerError::Settings { field, .. }) if field == "sampler.period_us")
    );
    assert!(
        matches!(err(5, 0), Err(SamplerError::Settings { field, .. }) if field == "sampler.block_samples")
    );
}

#[test]
fn realtime_paces_blocks() {
    // 200 ms of signal at 1 ms per sample, 20 samples per block.
    let t = trace_of(0, &[(100_000 * US, 1, 1)], 200_000 * US);
    let mut s =
        ReplaySampler::from_trace(t, &cfg(true, false), 1_000, 20, LevelWords::One).unwrap();
    let start = Instant::now();
    let got = collect(&mut s, 100);
    let took = start.elapsed();
    assert_eq!(got.len(), 201);
    assert!(
        took >= Duration::from_millis(160),
        "replay of 200 ms took {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "replay of 200 ms took {took:?}"
    );
}

#[test]
fn shutdown_interrupts_a_long_wait() {
    let t = trace_of(0, &[], 3_600_000_000 * US);
    let mut s =
        ReplaySampler::from_trace(t, &cfg(true, false), 1_000_000, 600, LevelWords::One).unwrap();
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    let th = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        trigger.trigger();
    });
    let start = Instant::now();
    let mut block = Block::new(1_000_000, LevelWords::One);
    assert!(!s.next_block(&mut block, &shutdown).unwrap());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(
        !s.next_block(&mut block, &shutdown).unwrap(),
        "stays stopped"
    );
    th.join().unwrap();
}

#[test]
fn file_errors_name_the_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(false, false);
    c.signal = dir.path().join("nope.vcd");
    let msg = ReplaySampler::open(&c, 5, 10, LevelWords::One)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nope.vcd"), "{msg}");
    c.signal = dir.path().join("bad.vcd");
    std::fs::write(
        &c.signal,
        "$timescale 1us $end\n$var wire 1 ! gpio1 $end\n$enddefinitions $end\n#0\n1?\n",
    )
    .unwrap();
    let msg = ReplaySampler::open(&c, 5, 10, LevelWords::One)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("bad.vcd") && msg.contains("line 5"), "{msg}");
    c.signal = dir.path().join("good.vcd");
    crate::signal::write_vcd(
        &crate::signal::demo(1),
        std::fs::File::create(&c.signal).unwrap(),
    )
    .unwrap();
    let mut s = ReplaySampler::open(&c, 5, 1000, LevelWords::One).unwrap();
    assert_eq!(collect(&mut s, 1000).len(), 200_001);
}

/// Traces with sub-µs times, many of them exactly on multiples of the period.
fn arb_case() -> impl Strategy<Value = (Trace, u32, u32, LevelWords, bool)> {
    (
        1u32..20,
        1u32..50,
        any::<bool>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_flat_map(|(period, block, two, looped, init)| {
            let p = u128::from(period) * US;
            let time = prop_oneof![
                (1u128..60).prop_map(move |k| k * p),
                (1u128..60).prop_map(move |k| k * p + 1),
                (1u128..60).prop_map(move |k| k * p - 1),
                1u128..60 * p,
            ];
            (
                proptest::collection::vec((time, 0u8..54, 0u8..2), 0..40),
                0u128..70 * p,
            )
                .prop_map(move |(cs, end)| {
                    let words = if two {
                        LevelWords::Two
                    } else {
                        LevelWords::One
                    };
                    (trace_of(init, &cs, end), period, block, words, looped)
                })
        })
}

proptest! {
    #[test]
    fn samples_match_the_naive_reference((trace, period, block, words, looped) in arb_case()) {
        let mut s = ReplaySampler::from_trace(trace.clone(), &cfg(false, looped), period, block, words).unwrap();
        let got = collect(&mut s, 400);
        let p = u128::from(period) * US;
        let mask = if words == LevelWords::Two { u64::MAX } else { u64::from(u32::MAX) };
        let pass = if looped { trace.end_fs().div_ceil(p).max(1) } else { trace.end_fs() / p + 1 };
        if !looped {
            prop_assert_eq!(got.len() as u128, pass);
        }
        for (k, &(t_us, w)) in got.iter().enumerate() {
            let k = k as u128;
            prop_assert_eq!(u128::from(t_us), 1_000_000 + k * u128::from(period));
            let t_fs = (k % pass) * p;
            prop_assert_eq!(w, naive(&trace, t_fs) & mask, "sample {} at {} fs", k, t_fs);
        }
    }
}

#[test]
fn fast_enough_for_a_microsecond_period() {
    // 10 s of the demo at 1 µs: 10 M samples; the target is ≥ 1 M samples/s, so this is loose.
    let mut s = ReplaySampler::from_trace(
        crate::signal::demo(10),
        &cfg(false, false),
        1,
        1000,
        LevelWords::Two,
    )
    .unwrap();
    let mut block = Block::new(1, LevelWords::Two);
    let shutdown = Shutdown::new();
    let start = Instant::now();
    let mut n = 0;
    while s.next_block(&mut block, &shutdown).unwrap() {
        n += block.samples();
    }
    let took = start.elapsed();
    assert_eq!(n, 10_000_001);
    tracing::info!(?took, "10 M replayed samples");
    assert!(took < Duration::from_secs(10), "{took:?}");
}
