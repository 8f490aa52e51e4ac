//! Decoder throughput against a plain copy of the same buffer, in the same run.
//!
//! `cargo bench --bench decode` runs one criterion group per case (1 or 2 level words per sample ×
//! sparse, typical or dense edges) over a 1 M-sample buffer handed over in 1000-sample blocks, as
//! the sampler does, then prints a table: decoder samples/s, memcpy samples/s of the same blocks,
//! and their ratio (the target is ≥ 1.0 for sparse edges).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use edgetap::edges::decode::Decoder;
use edgetap::sampler::{Block, LevelWords};

/// Samples in the whole buffer.
const SAMPLES: usize = 1_000_000;
/// Samples per block: 1 ms at 1 µs (the figures before `sampler.block_ms` used it; kept so they
/// compare).
const BLOCK_SAMPLES: usize = 1000;
/// Sample period (µs) the blocks are stamped with.
const PERIOD_US: u32 = 1;

/// How often a watched pin changes.
#[derive(Debug, Clone, Copy)]
struct Density {
    name: &'static str,
    /// On average one sample in `every` shows a change.
    every: u64,
}

const DENSITIES: [Density; 3] = [
    Density {
        name: "sparse",
        every: 10_000,
    },
    Density {
        name: "typical",
        every: 100,
    },
    Density {
        name: "dense",
        every: 1,
    },
];

/// A few pins, as a typical config watches: the two-word case includes one pin of GPLEV1.
fn watched(words: LevelWords) -> &'static [u8] {
    match words {
        LevelWords::One => &[4, 17, 18, 27],
        LevelWords::Two => &[4, 17, 27, 40],
    }
}

/// A small deterministic generator (xorshift64*), so every run decodes the same buffer.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The buffer as blocks, and the number of edges it holds on the watched pins.
fn blocks(words: LevelWords, density: Density) -> (Vec<Block>, usize) {
    let pins = watched(words);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Unwatched pins hold steady levels, as pull-ups and idle outputs do.
    let mut cur: u64 = 0x0020_0000_0c00_1a02 & !pins.iter().fold(0, |m, &p| m | 1 << p);
    let mut edges = 0;
    let mut out = Vec::with_capacity(SAMPLES / BLOCK_SAMPLES);
    for k in 0..SAMPLES / BLOCK_SAMPLES {
        let mut b = Block::new(PERIOD_US, words);
        b.t0_us = 1_700_000_000_000_000 + (k * BLOCK_SAMPLES) as u64 * u64::from(PERIOD_US);
        b.levels.reserve(BLOCK_SAMPLES * words.count());
        for i in 0..BLOCK_SAMPLES {
            if (k, i) != (0, 0) && rng.next() % density.every == 0 {
                cur ^= 1 << pins[(rng.next() % pins.len() as u64) as usize];
                edges += 1;
            }
            b.levels.push(cur as u32);
            if words == LevelWords::Two {
                b.levels.push((cur >> 32) as u32);
            }
        }
        out.push(b);
    }
    (out, edges)
}

/// Per-iteration times criterion measured, by (case, routine), for the summary table.
static TIMES: Mutex<BTreeMap<(String, &'static str), Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Times `iters` runs of `routine` and records the mean of this sample for the summary.
fn timed(case: &str, routine: &'static str, iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let took = start.elapsed();
    if let Ok(mut t) = TIMES.lock() {
        t.entry((case.to_string(), routine))
            .or_default()
            .push(took.as_secs_f64() / iters as f64);
    }
    took
}

fn bench_case(c: &mut Criterion, words: LevelWords, density: Density) {
    let (blocks, edges) = blocks(words, density);
    let pins = watched(words);
    let case = format!("decode-{}w-{}", words.count(), density.name);

    // The decoder must find exactly the edges the buffer holds, or the figures mean nothing.
    let mut out = Vec::with_capacity(BLOCK_SAMPLES * pins.len());
    let mut found = 0;
    let mut d = Decoder::new(pins.iter().copied());
    for b in &blocks {
        out.clear();
        d.decode(b, &mut out);
        found += out.len();
    }
    assert_eq!(
        found, edges,
        "{case}: decoder found {found} edges, buffer has {edges}"
    );

    let mut g = c.benchmark_group(&case);
    g.throughput(Throughput::Elements(SAMPLES as u64));
    let mut scratch = vec![0u32; BLOCK_SAMPLES * words.count()];
    g.bench_function("memcpy", |b| {
        b.iter_custom(|iters| {
            timed(&case, "memcpy", iters, || {
                for blk in &blocks {
                    scratch[..blk.levels.len()].copy_from_slice(black_box(&blk.levels));
                    black_box(&mut scratch);
                }
            })
        })
    });
    g.bench_function("decoder", |b| {
        b.iter_custom(|iters| {
            timed(&case, "decoder", iters, || {
                let mut d = Decoder::new(pins.iter().copied());
                for blk in &blocks {
                    out.clear();
                    d.decode(black_box(blk), &mut out);
                    black_box(&mut out);
                }
            })
        })
    });
    g.finish();
}

/// The fastest recorded per-iteration time of (case, routine), in seconds.
///
/// The fastest of ~100 samples rather than the median: on a shared machine other processes slow
/// some samples down, never speed one up, and the two routines of a ratio run seconds apart.
fn fastest(case: &str, routine: &'static str) -> Option<f64> {
    let t = TIMES.lock().ok()?;
    let v = t.get(&(case.to_string(), routine))?;
    // Under `--test` or a filter a routine runs once or not at all: no figure then.
    if v.len() < 10 {
        return None;
    }
    v.iter().copied().reduce(f64::min)
}

/// Prints decoder and memcpy samples/s per case and their ratio, for the cases that ran.
fn summary() {
    let msps = |secs: f64| SAMPLES as f64 / secs / 1e6;
    let mut rows = Vec::new();
    for words in [LevelWords::One, LevelWords::Two] {
        for density in DENSITIES {
            let case = format!("decode-{}w-{}", words.count(), density.name);
            let (Some(dec), Some(copy)) = (fastest(&case, "decoder"), fastest(&case, "memcpy"))
            else {
                continue;
            };
            rows.push(format!(
                "| {} | {} (1/{}) | {:.0} | {:.0} | {:.2} |",
                words.count(),
                density.name,
                density.every,
                msps(dec),
                msps(copy),
                copy / dec,
            ));
        }
    }
    if rows.is_empty() {
        return;
    }
    println!(
        "\ndecode: {SAMPLES} samples in {BLOCK_SAMPLES}-sample blocks, fastest samples, Msamples/s"
    );
    println!("| words | edges | decoder | memcpy | decoder/memcpy |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!("target: decoder/memcpy >= 1.0 for sparse edges");
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for words in [LevelWords::One, LevelWords::Two] {
        for density in DENSITIES {
            bench_case(&mut c, words, density);
        }
    }
    c.final_summary();
    summary();
}
