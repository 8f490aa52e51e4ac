//! The `edgetap` command line: run the agent, capture edges to a file, check a config, write
//! demo signals.

// All hardware access is in the library's `hw` module.
#![deny(unsafe_code)]

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use edgetap::capture::{capture, CaptureFormat};
use edgetap::config::{self, Config, ConfigSource};
use edgetap::shutdown::Shutdown;
use edgetap::stats::{Rates, Stats};
use tracing::{info, warn};

/// edgetap: GPIO edges, sampled by DMA, published to MQTT.
#[derive(Debug, Parser)]
#[command(name = "edgetap", version, about, propagate_version = true)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax); the RUST_LOG environment variable also works.
    /// The embedded broker's own logs are off unless named (e.g. `info,rumqttd=info`).
    #[arg(long, global = true, default_value = "info,rumqttd=off")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent: sample, filter, batch and publish to MQTT until stopped.
    Run {
        #[command(flatten)]
        config: ConfigArgs,
        /// Print a live summary every SECS seconds (default: 2 on a terminal, off otherwise; 0 = off).
        #[arg(long, value_name = "SECS")]
        summary_every: Option<u64>,
    },
    /// Sample, decode and filter without MQTT; write the edges as JSON lines or VCD.
    Capture {
        #[command(flatten)]
        config: ConfigArgs,
        /// Stop after this much signal time (seconds); default: until the signal ends or Ctrl-C.
        #[arg(long, value_name = "SECS")]
        duration: Option<f64>,
        /// Output format (default: from the extension of --out, `.vcd` or `.jsonl`; else jsonl).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Output file (default: standard output); its extension picks the format.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Self-test of the DMA teardown: panic inside the sampling loop after SECS seconds.
        #[arg(long, value_name = "SECS", hide = true)]
        panic_after: Option<f64>,
    },
    /// Report what the DMA backend would find here (board, peripheral base, DMA channel, memory
    /// method, permissions), the GPIO chips and lines, which backends can run and which to use.
    /// Exits non-zero when the backend judged (the config's, else the recommended) cannot run.
    Check {
        /// Take sampler settings (channel, period, pacer) from this config file.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Override a key: `--set sampler.dma_channel=5` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Run a short, finite DMA chain on the configured board (`dma` or `emulated`) and check
    /// every word it wrote, the timer reads, that the channel stopped cleanly and the memory
    /// went back: one line per check, last line `selftest: ok` or `selftest: FAIL …`.
    Selftest {
        #[command(flatten)]
        config: ConfigArgs,
        /// Then, with a jumper wire from GPIO OUT to GPIO IN, drive OUT with pulses down to the
        /// sample period, sample both with the DMA sampler, and report missed or extra pulses
        /// and the timing error (mean, p99, max). OUT gets its function back at the end.
        #[arg(long, value_name = "OUT:IN")]
        loopback: Option<edgetap::sampler::dma::loopback::Loopback>,
    },
    /// Run an emulated board in this process until stopped: other processes attach to its
    /// memory file with `backend = "emulated"` and `sampler.emulated.mem = FILE`.
    Emulator {
        /// The board to model.
        #[arg(long, value_enum, default_value_t = EmuBoard::Pi4)]
        board: EmuBoard,
        /// The board's memory file (created; kept when the emulator stops).
        #[arg(long, value_name = "FILE")]
        mem: PathBuf,
        /// VCD file driving the pins (wires named gpio<N>).
        #[arg(long, value_name = "FILE.vcd")]
        signal: PathBuf,
        /// Start the signal over at its end.
        #[arg(long = "loop")]
        loop_: bool,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Signal tools: write synthetic signals as VCD for replay.
    Signal {
        #[command(subcommand)]
        command: SignalCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a config file (with environment and --set layers) and print the effective config.
    Check {
        /// The TOML config file.
        file: PathBuf,
        /// Override a key: `--set mqtt.port=1884` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
    /// Drop the remote config layer persisted in `state_dir` (kept as
    /// `remote-config.json.reset`): the next start runs with the file config at version 0.
    /// Stop the agent first.
    ResetRemote {
        /// The TOML config file (it names `state_dir`).
        file: PathBuf,
        /// Override a key: `--set state_dir=/var/lib/edgetap` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum SignalCommand {
    /// Write the demo signal: a bouncing switch (GPIO 17), a 1 kHz pulse train (GPIO 18) and a
    /// slow sensor (GPIO 27).
    Demo {
        /// Length of the signal in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Output VCD file.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// The TOML config file.
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// Override a key: `--set mqtt.port=1884` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EmuBoard {
    /// Raspberry Pi 1 / Zero (BCM2835).
    Pi1,
    /// Raspberry Pi 3 (BCM2837).
    Pi3,
    /// Raspberry Pi 4 (BCM2711).
    Pi4,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// JSON lines, one edge per line.
    Jsonl,
    /// Value Change Dump.
    Vcd,
}

fn main() {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let result = dispatch(cli.command);
    // A thread may still hold an emulated board when main returns: its file must not stay.
    edgetap::emu::board_file::remove_temporaries();
    if let Err(e) = result {
        eprintln!("error: {}", error_text(&e));
        std::process::exit(1);
    }
}

/// Refuses to start when `state_dir` cannot be created or written: the spool would be off
/// for the whole run, silently losing every batch of the next outage.
fn check_state_dir(dir: &std::path::Path) -> Result<()> {
    let advice = "the agent keeps its spool and state there and needs permission to create \
                  and write files in it; fix the directory or its permissions, set state_dir, \
                  or run without a spool (spool.enabled = false)";
    edgetap::private_fs::create_dir_all(dir)
        .with_context(|| format!("state_dir {} cannot be created ({advice})", dir.display()))?;
    let probe = dir.join(format!(".edgetap-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("state_dir {} is not writable ({advice})", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The error and its causes, `: `-separated like `{:#}`, but a cause whose text the message
/// already holds (an OS error both quoted and chained) is not repeated.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Writes CLI output to stdout; a reader that went away (`edgetap config check … | head`) is not
/// an error, unlike `println!`, which would panic.
fn print_out(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(default))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        // Colours only on a terminal: journald and log files get plain text.
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .init();
}

fn load_config(args: &ConfigArgs) -> Result<Config> {
    config::load(ConfigSource::File(&args.config), &args.overrides)
        .with_context(|| format!("config {}", args.config.display()))
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run {
            config,
            summary_every,
        } => {
            let config = load_config(&config)?;
            if config.spool.enabled {
                check_state_dir(&config.state_dir)?;
            }
            if config.mqtt.tls.enabled {
                // Unreadable certificates fail now, not in the publisher after start-up.
                edgetap::mqtt::tls::client_config(&config.mqtt.tls)?;
            }
            let every = summary_every.unwrap_or(if io::stdout().is_terminal() { 2 } else { 0 });
            run_agent(config, every)
        }
        Command::Capture {
            config,
            duration,
            format,
            out,
            panic_after,
        } => {
            let format = capture_format(format, out.as_deref())?;
            let config = load_config(&config)?;
            let out: Box<dyn Write> = match out {
                Some(path) => Box::new(
                    File::create(&path).with_context(|| format!("create {}", path.display()))?,
                ),
                None => Box::new(io::stdout().lock()),
            };
            let out = PanicAfter {
                inner: BufWriter::new(out),
                deadline: panic_after.map(|s| Instant::now() + Duration::from_secs_f64(s)),
            };
            run_capture(&config, duration, format, out)
        }
        Command::Check { config, overrides } => {
            let sampler = match config {
                Some(file) => {
                    config::load(ConfigSource::File(&file), &overrides)
                        .with_context(|| format!("config {}", file.display()))?
                        .sampler
                }
                None => Default::default(),
            };
            use edgetap::hw::backends::{self, BackendKind, GpioSurvey};
            let paths = edgetap::hw::check::CheckPaths::system(&sampler.mem_device);
            let report = edgetap::hw::check::check(&paths, &(&sampler).into());
            let survey = GpioSurvey::system();
            let chips = survey.chip_infos();
            let board = edgetap::hw::board::identify(&paths.root).map_err(|e| e.to_string());
            let cdev = backends::cdev_finding(&board, sampler.cdev.chip.as_deref(), &chips);
            let advice = backends::recommend(&board, report.dma_ready, !chips.is_empty());
            let judged = match sampler.backend {
                edgetap::config::Backend::Cdev => BackendKind::Cdev,
                edgetap::config::Backend::Dma | edgetap::config::Backend::Emulated => {
                    BackendKind::Dma
                }
                edgetap::config::Backend::Replay => advice.backend.unwrap_or(BackendKind::Dma),
            };
            print_out(&format!(
                "dma backend:\n{}\n{}\ncdev backend:\n{}\nrecommended: {}\n",
                report.render_judged(judged == BackendKind::Dma),
                survey.render(),
                cdev.render(judged == BackendKind::Cdev),
                advice.why
            ))?;
            let failures = match judged {
                BackendKind::Dma => report.failures(),
                BackendKind::Cdev => usize::from(!cdev.ok),
            };
            match failures {
                0 => Ok(()),
                n => anyhow::bail!(
                    "check: {n} finding(s) marked FAIL for backend = \"{}\"",
                    judged.name()
                ),
            }
        }
        Command::Emulator {
            board,
            mem,
            signal,
            loop_,
        } => run_emulator(board, mem, signal, loop_),
        Command::Selftest { config, loopback } => {
            let config = load_config(&config)?;
            let mut report =
                edgetap::sampler::dma::selftest::run(&config.sampler, &config.state_dir);
            if let Some(wire) = loopback.filter(|_| report.ok()) {
                edgetap::sampler::dma::loopback::run(
                    &mut report,
                    &config.sampler,
                    &config.state_dir,
                    wire,
                );
            }
            print_out(&report.render())?;
            if !report.ok() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { file, overrides },
        } => {
            let loaded = config::load_explained(ConfigSource::File(&file), &overrides)
                .with_context(|| format!("config {}", file.display()))?;
            print_out(&effective_config_text(&file, loaded)?)
        }
        Command::Config {
            command: ConfigCommand::ResetRemote { file, overrides },
        } => {
            let config = config::load(ConfigSource::File(&file), &overrides)
                .with_context(|| format!("config {}", file.display()))?;
            let dir = &config.state_dir;
            let text = match config::reset(dir)? {
                Some(version) => format!(
                    "remote layer (version {version}) set aside as {}; the next start uses \
                     the file config at version 0\n",
                    dir.join(format!("{}.reset", config::STATE_FILE)).display()
                ),
                None => format!("no remote layer in {}: nothing to reset\n", dir.display()),
            };
            print_out(&text)
        }
        Command::Signal {
            command: SignalCommand::Demo { seconds, out },
        } => {
            let trace = edgetap::signal::demo(seconds);
            let file = File::create(&out).with_context(|| format!("create {}", out.display()))?;
            let mut w = BufWriter::new(file);
            edgetap::signal::write_vcd(&trace, &mut w)
                .with_context(|| format!("write {}", out.display()))?;
            w.flush()
                .with_context(|| format!("write {}", out.display()))?;
            info!(path = %out.display(), seconds, "demo signal written");
            Ok(())
        }
    }
}

/// What `config check` prints: the config the agent would run with (file, environment,
/// `--set`, then the remote layer persisted in `state_dir`), keys set by the remote layer
/// marked, the device id (and where it came from), the state directory, the broker and how
/// the agent authenticates (never the password).
fn effective_config_text(file: &std::path::Path, loaded: config::Loaded) -> Result<String> {
    let config::Loaded {
        config,
        device_id_from,
        password_from,
    } = loaded;
    let state = config.state_dir.join(config::STATE_FILE);
    let id_from = match device_id_from {
        config::DeviceIdFrom::Config => "set in the config".to_owned(),
        config::DeviceIdFrom::HostName(h) => format!("from the host name `{h}`"),
    };
    let mut head = format!(
        "# {}: valid\n# device_id = {:?} ({id_from}), state_dir = {}\n",
        file.display(),
        config.device_id,
        config.state_dir.display()
    );
    head += &format!("# broker: {}\n", broker_text(&config.mqtt, &password_from));
    let (effective, remote_keys) = match config::overlay(config.clone(), &config.state_dir) {
        Ok(remote) if remote.version() > 0 => {
            let keys = changed_keys(
                &serde_json::to_value(config.redacted())?,
                &serde_json::to_value(remote.config().redacted())?,
            );
            head += &format!(
                "# remote layer {} (version {}) sets: {} (marked `# remote`)\n",
                state.display(),
                remote.version(),
                if keys.is_empty() {
                    "nothing".to_owned()
                } else {
                    keys.join(", ")
                }
            );
            (remote.config().clone(), keys)
        }
        Ok(_) => {
            head += &format!("# remote layer: none ({} absent)\n", state.display());
            (config, Vec::new())
        }
        Err(e) => {
            head += &format!("# remote layer: not applied ({e})\n");
            (config, Vec::new())
        }
    };
    let text = toml::to_string_pretty(&effective.redacted())
        .context("cannot print the effective config")?;
    Ok(head + &mark_remote(&text, &remote_keys))
}

/// How the agent reaches the broker: address, transport, authentication, and whether the TLS
/// files can be used (checked here, as at start-up).
fn broker_text(m: &config::MqttConfig, password: &config::PasswordFrom) -> String {
    let mut parts = vec![m.broker()];
    if m.tls.enabled {
        let roots = match &m.tls.ca_file {
            Some(ca) => format!("CA {}", ca.display()),
            None => "the system's CA roots".to_owned(),
        };
        parts.push(format!("TLS, trusting {roots}"));
        if let Some(name) = &m.tls.server_name {
            parts.push(format!("certificate name {name}"));
        }
        if let Some(cert) = &m.tls.cert_file {
            parts.push(format!("client certificate {}", cert.display()));
        }
        if let Err(e) = edgetap::mqtt::tls::client_config(&m.tls) {
            parts.push(format!("NOT USABLE: {e}"));
        }
    } else {
        parts.push("plain TCP (no TLS)".to_owned());
    }
    if let Some(user) = &m.username {
        let from = match password {
            config::PasswordFrom::None => "no password".to_owned(),
            config::PasswordFrom::Config => "password from the config".to_owned(),
            config::PasswordFrom::File(p) => format!("password from {}", p.display()),
            config::PasswordFrom::Credential(p) => {
                format!("password from the credential {}", p.display())
            }
        };
        parts.push(format!("user {user:?}, {from}"));
    }
    parts.join(", ")
}

/// Dotted keys whose values differ between `a` and `b` (tables compared key by key, anything
/// else whole).
fn changed_keys(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    fn walk(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let null = serde_json::Value::Null;
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(
                        &path,
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        out,
                    );
                }
            }
            _ if a != b => out.push(prefix.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", a, b, &mut out);
    out
}

/// Appends `# remote` to the TOML lines of `keys` (and to the headers of whole arrays of
/// tables the remote layer replaced, such as `[[inputs]]`).
fn mark_remote(text: &str, keys: &[String]) -> String {
    let mut table = String::new();
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let mut remote = false;
        if let Some(name) = trimmed
            .strip_prefix("[[")
            .and_then(|t| t.strip_suffix("]]"))
        {
            table = name.to_owned();
            remote = keys.contains(&table);
        } else if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            table = name.to_owned();
        } else if let Some((key, _)) = trimmed.split_once(" = ") {
            let path = if table.is_empty() {
                key.to_owned()
            } else {
                format!("{table}.{key}")
            };
            remote = keys.contains(&path);
        }
        out.push_str(line);
        if remote {
            out.push_str("  # remote");
        }
        out.push('\n');
    }
    out
}

/// A shutdown that SIGINT, SIGTERM or SIGHUP triggers (for the commands without an async
/// runtime).
fn shutdown_on_signals() -> Result<Shutdown> {
    let shutdown = Shutdown::new();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])
    .context("install signal handlers")?;
    let trigger = shutdown.clone();
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            trigger.trigger();
        }
    });
    Ok(shutdown)
}

/// `edgetap emulator`: a realtime emulated board until SIGINT/SIGTERM; the file stays.
fn run_emulator(board: EmuBoard, mem: PathBuf, signal: PathBuf, loop_: bool) -> Result<()> {
    let trace =
        edgetap::vcd::read_file(&signal).with_context(|| format!("signal {}", signal.display()))?;
    let board = match board {
        EmuBoard::Pi1 => edgetap::config::BoardKind::Pi1,
        EmuBoard::Pi3 => edgetap::config::BoardKind::Pi3,
        EmuBoard::Pi4 => edgetap::config::BoardKind::Pi4,
    };
    let shutdown = shutdown_on_signals()?;
    let opts = edgetap::emu::EmuOptions {
        board,
        mem: Some(mem),
        signal: Some(trace),
        loop_signal: loop_,
        mode: edgetap::emu::Mode::Realtime,
        start_utc_us: None,
        faults: Default::default(),
        cb_cost_ns: edgetap::emu::cb_cost_ns(board),
        loopback: Vec::new(),
    };
    edgetap::emu::run_until_stopped(opts, &shutdown).context("emulator")
}

/// Triggers `shutdown` on SIGINT, SIGTERM or SIGHUP (a closing SSH session: a clean stop, not
/// an abrupt death); a second signal exits at once.
fn spawn_signal_handler(shutdown: Shutdown) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).context("install SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("install SIGTERM handler")?;
    let mut hup = signal(SignalKind::hangup()).context("install SIGHUP handler")?;
    tokio::spawn(async move {
        for n in 0.. {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            };
            if n == 0 {
                info!(
                    signal = name,
                    "stopping: flushing batches, then disconnecting (signal again to exit now)"
                );
                shutdown.trigger();
            } else {
                warn!("second signal: exiting without a clean shutdown");
                edgetap::emu::board_file::remove_temporaries();
                std::process::exit(130);
            }
        }
    });
    Ok(())
}

fn run_agent(config: Config, summary_every: u64) -> Result<()> {
    // One thread for all of MQTT (publisher, rumqttc's event loop, controller): they hand work
    // to each other for every batch, and on one thread that costs no cross-thread wake-ups.
    // Sampling has its own thread and never waits on this one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async move {
        let shutdown = Shutdown::new();
        spawn_signal_handler(shutdown.clone())?;
        let stats = Arc::new(Stats::default());
        if summary_every > 0 {
            tokio::spawn(print_summaries(
                stats.clone(),
                config.pins().collect(),
                Duration::from_secs(summary_every),
                shutdown.clone(),
            ));
        }
        edgetap::agent::run(config, shutdown, stats)
            .await
            .context("agent failed")
    })
}

/// The live summary a person sees in the terminal ([`edgetap::stats::summary_line`]). Stops
/// printing, and only that, when stdout goes away (`edgetap run | head`).
async fn print_summaries(stats: Arc<Stats>, pins: Vec<u8>, every: Duration, shutdown: Shutdown) {
    let mut last = (Instant::now(), stats.snapshot());
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.wait() => return,
        }
        let now = (Instant::now(), stats.snapshot());
        let rates = Rates::between(&last.1, &now.1, now.0.duration_since(last.0));
        let line = edgetap::stats::summary_line(&pins, &rates, &now.1) + "\n";
        let mut out = io::stdout().lock();
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            info!(error = %e, "stdout closed; live summary stopped");
            return;
        }
        last = now;
    }
}

/// A writer that panics once its deadline has passed: it is called from inside the sampling
/// loop, so the panic unwinds through the sampler exactly as a bug would.
struct PanicAfter<W> {
    inner: W,
    deadline: Option<Instant>,
}

impl<W: Write> Write for PanicAfter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            panic!("--panic-after: deliberate panic in the sampling loop (teardown self-test)");
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The capture format: `--format` if given, else the extension of `--out` (`.vcd`, `.jsonl`),
/// else JSON lines; `--format` contradicting a known extension is refused.
fn capture_format(format: Option<Format>, out: Option<&std::path::Path>) -> Result<Format> {
    let ext = out
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let by_ext = match ext.as_deref() {
        Some("vcd") => Some(Format::Vcd),
        Some("jsonl" | "ndjson") => Some(Format::Jsonl),
        _ => None,
    };
    match (format, by_ext) {
        (Some(f), Some(e)) if f != e => anyhow::bail!(
            "--format {} contradicts the extension of --out {} (.{}): drop --format or rename the file",
            f.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default(),
            out.map(|p| p.display().to_string()).unwrap_or_default(),
            ext.unwrap_or_default()
        ),
        (Some(f), _) => Ok(f),
        (None, e) => Ok(e.unwrap_or(Format::Jsonl)),
    }
}

fn run_capture(
    config: &Config,
    duration: Option<f64>,
    format: Format,
    out: impl Write,
) -> Result<()> {
    let duration_us = match duration {
        Some(d) if d.is_finite() && d > 0.0 => Some((d * 1e6) as u64),
        Some(d) => anyhow::bail!("--duration: {d} is not a positive number of seconds"),
        None => None,
    };
    let format = match format {
        Format::Jsonl => CaptureFormat::JsonLines,
        Format::Vcd => CaptureFormat::Vcd,
    };
    let shutdown = shutdown_on_signals()?;
    let summary = capture(config, duration_us, format, out, &shutdown)?;
    info!(
        samples = summary.samples,
        edges = summary.edges,
        samples_lost = summary.samples_lost,
        edges_lost = summary.edges_lost,
        rate_limited = summary.rate_limited,
        "capture done"
    );
    Ok(())
}
