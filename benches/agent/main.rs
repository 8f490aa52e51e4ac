//! End-to-end figures for the README's Performance section, each beside its anchor:
//!
//! ```text
//! cargo bench --bench agent                 # everything (about 2 minutes, more with callgrind)
//! cargo bench --bench agent -- cpu latency  # some of: cpu callgrind throughput wire latency footprint
//! ```
//!
//! Needs mosquitto (started on a free loopback port per figure) and, for `callgrind`, valgrind.
//! Prints Markdown tables. Figures from a noisy machine: read the ratios, measured in one run.

#[path = "../../tests/support/mod.rs"]
mod support;

mod callgrind;
mod cpu;
mod footprint;
mod latency;
mod procfs;
mod rig;
mod throughput;
mod wire;

use std::time::Duration;

const ALL: [&str; 6] = [
    "cpu",
    "callgrind",
    "throughput",
    "wire",
    "latency",
    "footprint",
];

/// (block samples, batch window ms) measured at 1 µs: 1 ms blocks and the default block
/// (`None`: `sampler.block_ms` unset, 5 ms) with the demo's 10 ms batch window, and the default
/// block with a 100 ms window (a tenth of the publishes).
const CONFIGS: [(Option<u32>, u32); 3] = [(Some(1000), 10), (None, 10), (None, 100)];

/// How a row names its block.
fn block_label(block: Option<u32>) -> String {
    block.map_or("default".into(), |n| n.to_string())
}

fn main() {
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| picked.is_empty() || picked.iter().any(|p| p == name);
    if let Some(bad) = picked.iter().find(|p| !ALL.contains(&p.as_str())) {
        eprintln!("unknown figure `{bad}`; pick from: {}", ALL.join(" "));
        std::process::exit(2);
    }
    println!("# edgetap end-to-end figures\n\n{}\n", machine());
    let mut rss = None;
    if want("cpu") {
        println!("## Agent CPU at 1 MS/s (emulated Pi 4 in its own process, real mosquitto)\n");
        println!("| block | batch window | measured | agent CPU, live threads' schedstat (% of one core) | agent CPU, process-wide /proc/<pid>/stat | user / sys (ticks) | target | ratio to target (process-wide) | emulator CPU | edges received | samples lost |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for (block, max_age_ms) in CONFIGS {
            let f = cpu::measure(1, block, max_age_ms, Duration::from_secs(15));
            rss = Some(f.agent);
            println!(
                "| {}{} samples ({} ms) | {} ms | {:.1} s | {:.2} % | {:.2} % | {:.2} s / {:.2} s | ≤ 1 % | {:.2}× | {:.0} % | {} | {} |",
                if block.is_none() { "default: " } else { "" },
                f.block_samples,
                f.block_samples * f.period_us / 1000,
                f.max_age_ms,
                f.wall.as_secs_f64(),
                f.agent_percent,
                f.agent_process_percent,
                f.agent_user.as_secs_f64(),
                f.agent_sys.as_secs_f64(),
                f.agent_process_percent / 1.0,
                f.emulator_percent,
                f.edges,
                f.samples_lost.map_or("?".into(), |n| n.to_string()),
            );
        }
        println!();
    }
    if want("callgrind") {
        if callgrind::available() {
            println!("## Instructions per sample (callgrind; `edgetap run`, lock-step emulated Pi 4 at 1 µs, real mosquitto)\n");
            println!("| block | batch window | run | samples | agent instructions | per sample | batches dropped | emulator thread (left out) |");
            println!("|---|---|---|---|---|---|---|---|");
            let mut steady = Vec::new();
            for (block, max_age_ms) in CONFIGS {
                let c = callgrind::measure(1, block, max_age_ms);
                for (name, r) in [("short", c.short), ("long", c.long)] {
                    println!(
                        "| {} | {max_age_ms} ms | {name} | {} | {} | {:.2} | {} | {} |",
                        block_label(block),
                        r.samples,
                        r.agent,
                        r.agent as f64 / r.samples.max(1) as f64,
                        r.dropped,
                        r.emulator
                    );
                }
                steady.push((block, max_age_ms, c.marginal()));
            }
            println!();
            for (block, max_age_ms, m) in steady {
                println!(
                    "steady state, {} blocks, {max_age_ms} ms batch window (long − short, start-up excluded): **{m:.2} instructions per sample**; target ≤ 4: {:.2}× the target",
                    block_label(block),
                    m / 4.0
                );
            }
            println!();
        } else {
            println!("## Instructions per sample\n\nvalgrind not installed: skipped.\n");
        }
    }
    if want("throughput") {
        let t = throughput::measure(Duration::from_secs(10));
        println!(
            "## Throughput to a subscriber (QoS 1, real mosquitto on loopback)\n\nAnchor: the bare rumqttc publisher of object-format (`json`) batches of {}, same run.\n",
            throughput::BATCH
        );
        println!("| run | format, edges per batch | edges/s | messages/s | MB/s | bytes/edge | vs the anchor's edges/s | vs a bare publisher of the same payloads |");
        println!("|---|---|---|---|---|---|---|---|");
        let anchor = t.formats[0].raw.edges_per_s.max(1.0);
        let row = |name: &str, format: &str, r: throughput::Rate, same: throughput::Rate| {
            println!(
                "| {name} | {format} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2}× | {:.2}× |",
                r.edges_per_s,
                r.messages_per_s,
                r.mb_per_s,
                r.mb_per_s * 1e6 / r.edges_per_s.max(1.0),
                r.edges_per_s / anchor,
                r.edges_per_s / same.edges_per_s.max(1.0)
            );
        };
        for f in &t.formats {
            let format = format!("{}, {}", f.format, f.batch);
            row(
                "bare rumqttc publisher, same payloads (mosquitto's rate)",
                &format,
                f.raw,
                f.raw,
            );
            row(
                "edgetap, replay as fast as it goes (publisher saturated)",
                &format,
                f.saturated,
                f.raw,
            );
        }
        row(
            &format!(
                "edgetap, {:.0} edges/s offered in real time (dropped batches: {})",
                t.offered,
                t.paced_dropped.map_or("?".into(), |n| n.to_string())
            ),
            &format!("json, {}", throughput::BATCH),
            t.paced,
            t.formats[0].raw,
        );
        let best = t
            .formats
            .iter()
            .map(|f| f.saturated.edges_per_s)
            .fold(0.0, f64::max);
        println!(
            "\ntarget ≥ 1,000,000 edges/s: saturated edgetap at {:.2}× the target (best format)\n",
            best / 1e6
        );
    }
    if want("wire") {
        println!("## Bytes per edge on the wire (demo signal, 5 µs samples, 5 ms blocks, 10 ms batch window)\n");
        println!("| format | batches | edges | edges/batch | payload bytes/edge | MQTT PUBLISH bytes/edge | target |");
        println!("|---|---|---|---|---|---|---|");
        for w in wire::measure() {
            let per = |b: u64| b as f64 / w.edges.max(1) as f64;
            println!(
                "| {} | {} | {} | {:.1} | {:.2} | {:.2} | {} |",
                w.format,
                w.messages,
                w.edges,
                w.edges as f64 / w.messages.max(1) as f64,
                per(w.payload),
                per(w.packets),
                if w.format == "json" { "—" } else { "≤ 12" }
            );
        }
        println!();
    }
    if want("latency") {
        println!("## Latency, edge time → subscriber receipt, 10,000 edges/s\n");
        println!("| backend | edges | p50 | p99 | max | target p99 (batch window {} ms + block {} ms + 2 ms) | ratio to target |", latency::MAX_AGE_MS, latency::block_ms());
        println!("|---|---|---|---|---|---|---|");
        for backend in ["replay", "emulated"] {
            let l = latency::measure(backend, Duration::from_secs(10));
            let target = latency::MAX_AGE_MS as f64 + latency::block_ms() + 2.0;
            println!(
                "| {backend} | {} | {:.2} ms | {:.2} ms | {:.2} ms | ≤ {target:.1} ms | {:.2}× |",
                l.edges,
                l.p50_ms,
                l.p99_ms,
                l.max_ms,
                l.p99_ms / target
            );
        }
        println!();
    }
    if want("footprint") {
        println!("## Footprint\n");
        println!("| what | figure |");
        println!("|---|---|");
        let size = |s: Option<u64>| s.map_or("?".into(), |b| format!("{:.2} MB", b as f64 / 1e6));
        println!(
            "| release binary, stripped, x86_64 | {} |",
            size(footprint::stripped_size(
                &footprint::native_binary(),
                "strip"
            ))
        );
        match footprint::aarch64_binary() {
            Some(bin) => println!(
                "| release binary, stripped, aarch64 | {} |",
                size(footprint::stripped_size(&bin, "aarch64-linux-gnu-strip"))
            ),
            None => println!(
                "| release binary, stripped, aarch64 | not built (see deploy/cross-build.md) |"
            ),
        }
        if let Some(u) = rss {
            println!(
                "| agent RSS after 17 s at 1 MS/s (peak) | {:.1} MB ({:.1} MB) |",
                u.rss as f64 / 1e6,
                u.hwm as f64 / 1e6
            );
        }
        let (online, first) = footprint::start_to_first_publish(5);
        println!(
            "| start → `online` on the broker (median of 5) | {:.1} ms |",
            online.as_secs_f64() * 1e3
        );
        println!(
            "| start → first edge batch received (median of 5) | {:.1} ms |",
            first.as_secs_f64() * 1e3
        );
        println!();
    }
}

/// The machine the figures come from.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Machine: {model}, {cores} cores, {}",
        std::env::consts::ARCH
    )
}
