//! A fleet on one broker: N `edgetap run` processes (replay backend, real time, each its own
//! signal and state_dir, devices `fleet-0000`…, group `fleet`) against one mosquitto on loopback.
//!
//! ```text
//! cargo bench --bench fleet                    # N = 100, then N = 500 (about 10 minutes)
//! cargo bench --bench fleet -- --agents 1000   # other sizes: --agents 50,200 or EDGETAP_FLEET_AGENTS
//! ```
//!
//! Per N: start-up, memory and CPU per agent, the broker's CPU and messages/s, a group patch's
//! answers, a flood on one agent against the others' latency, and a 30 s broker outage (every
//! agent back `online`, connects per second, batches lost). Prints Markdown tables. Needs
//! mosquitto. Not run by CI (only built: clippy --all-targets).

#[path = "../../tests/support/mod.rs"]
mod support;

#[path = "../agent/procfs.rs"]
#[allow(dead_code)] // The agent bench's reader: this bench needs only part of it.
mod procfs;
#[path = "../agent/rig.rs"]
#[allow(dead_code)]
mod rig;

mod agents;
mod broker;
mod run;
mod watch;

use run::{Figures, Spread};

/// Fleet sizes run when none is given.
const DEFAULT_AGENTS: [usize; 2] = [100, 500];

fn main() {
    let sizes = sizes();
    check_fd_limit(sizes.iter().copied().max().unwrap_or(0));
    println!(
        "# edgetap fleet on one mosquitto\n\n{}\n\nmosquitto {}; agents: replay backend in real time, \
         {} µs samples in {} ms blocks, {} ms batch window, QoS 1, persistent sessions.\n",
        machine(),
        mosquitto_version(),
        agents::PERIOD_US,
        agents::PERIOD_US * agents::BLOCK_SAMPLES / 1000,
        agents::MAX_AGE_MS
    );
    let mut all = Vec::new();
    for &n in &sizes {
        let f = run::fleet(n);
        // Each size's table as soon as it is measured: a larger one may not finish.
        print(std::slice::from_ref(&f));
        all.push(f);
    }
    if all.len() > 1 {
        println!("## All sizes\n");
        print(&all);
    }
}

/// `--agents 100,500` / `--agents=…`, else `EDGETAP_FLEET_AGENTS`, else the default.
fn sizes() -> Vec<usize> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let given = args
        .iter()
        .position(|a| a == "--agents")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--agents=").map(str::to_string))
        })
        .or_else(|| std::env::var("EDGETAP_FLEET_AGENTS").ok());
    let Some(list) = given else {
        return DEFAULT_AGENTS.to_vec();
    };
    let sizes: Vec<usize> = list
        .split(',')
        .map(|s| s.trim().parse::<usize>().ok().filter(|&n| n > 0))
        .collect::<Option<_>>()
        .unwrap_or_else(|| {
            eprintln!("--agents takes fleet sizes, e.g. 100,500 (got `{list}`)");
            std::process::exit(2);
        });
    sizes
}

/// Each agent and the broker's connection to it take a descriptor: says so when the limit
/// (inherited by the broker) is too low for the largest fleet.
fn check_fd_limit(largest: usize) {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse::<usize>().ok())
        });
    if let Some(limit) = limit.filter(|&l| l < largest + 100) {
        eprintln!(
            "open-file limit {limit} is below {largest} agents' connections: the broker will \
             refuse some (raise it with `ulimit -n`)"
        );
    }
}

/// Prints every figure, one column per fleet size.
fn print(all: &[Figures]) {
    let head: Vec<String> = all.iter().map(|f| format!("N = {}", f.n)).collect();
    println!("| figure | {} | target |", head.join(" | "));
    println!("|---|{}---|", "---|".repeat(all.len()));
    let row = |name: &str, target: &str, cell: &dyn Fn(&Figures) -> String| {
        let cells: Vec<String> = all.iter().map(cell).collect();
        println!("| {name} | {} | {target} |", cells.join(" | "));
    };
    let ms = |d: Option<std::time::Duration>| {
        d.map_or("not all".into(), |d| format!("{:.1} s", d.as_secs_f64()))
    };
    let spread = |s: &Spread| format!("{:.0} / {:.0} / {:.0} ms", s.p50, s.p99, s.max);
    let mib = |b: f64| b / (1024.0 * 1024.0);
    row("start → all `online`", "—", &|f| {
        format!("{} ({} online)", ms(f.start_all_online), f.started_online)
    });
    row("memory per agent, Pss (RSS)", "—", &|f| {
        format!(
            "{:.2} MiB ({:.2} MiB)",
            mib(f.memory.pss as f64 / f.n as f64),
            mib(f.memory.rss as f64 / f.n as f64)
        )
    });
    row("memory, all agents, Pss", "—", &|f| {
        format!("{:.0} MiB", mib(f.memory.pss as f64))
    });
    row("broker RSS", "—", &|f| {
        format!("{:.1} MiB", mib(f.broker_rss as f64))
    });
    row("CPU per agent (% of one core)", "—", &|f| {
        format!("{:.3} %", f.agents_cpu / f.n as f64)
    });
    row("CPU, all agents / broker / subscriber", "—", &|f| {
        format!(
            "{:.1} % / {:.1} % / {:.1} %",
            f.agents_cpu, f.broker_cpu, f.watch_cpu
        )
    });
    row("machine busy (all cores, anything running)", "—", &|f| {
        format!("{:.0} %", f.machine_busy)
    });
    row("PUBLISH/s at the broker, in / out ($SYS)", "—", &|f| {
        format!("{:.0} / {:.0}", f.broker_in_per_s, f.broker_out_per_s)
    });
    row(
        "edge batches/s at the subscriber (mean bytes)",
        "—",
        &|f| format!("{:.0} ({:.0} B)", f.batches_per_s, f.batch_bytes),
    );
    row(
        "group patch → every `config/result`, p50 / p99 / max",
        "all within 5 s at N = 500",
        &|f| {
            format!(
                "{} ({} results, {} ok)",
                spread(&f.group_patch),
                f.group_results.0,
                f.group_results.1
            )
        },
    );
    row(
        "broker back after 30 s → `online`, p50 / p99 / max",
        "all within 30 s",
        &|f| format!("{} ({} of {})", spread(&f.back_online), f.back_count, f.n),
    );
    row(
        "reconnects/s at the broker, peak (over s)",
        "spread, no herd",
        &|f| format!("{} ({} s)", f.connects_peak, f.connects_span_s),
    );
    row("batches lost (holes in run/seq), all phases", "0", &|f| {
        format!(
            "{} of {} ({} devices; {} duplicates)",
            f.lost, f.checked, f.lost_devices, f.duplicates
        )
    });
    row(
        "subscriber's session kept by the broker across its restart",
        "yes",
        &|f| (if f.session_kept { "yes" } else { "no" }).to_string(),
    );
    row(
        "others' latency p50 / p99 / max, before the flood",
        "—",
        &|f| {
            format!(
                "{} ({} edges)",
                spread(&f.latency_before),
                f.latency_before.n
            )
        },
    );
    row(
        "same, during the flood",
        "p99 within the run's noise",
        &|f| {
            format!(
                "{} ({} edges)",
                spread(&f.latency_during),
                f.latency_during.n
            )
        },
    );
    row("run's noise: p99 of the two halves before", "—", &|f| {
        format!("{:.0} ms, {:.0} ms", f.p99_halves.0, f.p99_halves.1)
    });
    row(
        "flood agent: edges/s delivered, its CPU, broker CPU",
        "—",
        &|f| {
            format!(
                "{:.0}, {:.1} %, {:.1} %",
                f.flood_edges_per_s, f.flood_cpu, f.flood_broker_cpu
            )
        },
    );
    row("agents that exited on their own", "0", &|f| {
        format!("{:?}", f.died)
    });
    println!();
    for f in all {
        println!(
            "reconnects per second after the restart, N = {}: {:?}",
            f.n, f.connects_per_s
        );
    }
    println!();
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
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or("?".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1048576.0)
        });
    format!(
        "Machine: {model}, {cores} cores, {mem}, {}",
        std::env::consts::ARCH
    )
}

/// `mosquitto -h`'s first line.
fn mosquitto_version() -> String {
    std::process::Command::new("mosquitto")
        .arg("-h")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim_start_matches("mosquitto version ").to_string())
        })
        .unwrap_or_else(|| "?".into())
}
