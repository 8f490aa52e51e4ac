//! The service manager's side of the agent (systemd `Type=notify`), a thin shell around
//! [`Watchdog`]: `READY=1` once sampling runs and the publisher loop started (not waiting for
//! the broker, which may be away), `WATCHDOG=1` while both make progress, `STATUS=` with the
//! live summary, `STOPPING=1` on shutdown. Without `NOTIFY_SOCKET` it does nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;
use tracing::{debug, info, warn};

use crate::liveness::{self, Change, Heartbeats, Watchdog};
use crate::shutdown::Shutdown;
use crate::stats::{Rates, Snapshot, Stats};

/// How often `STATUS=` is refreshed when no keep-alive carries it.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// How often the heartbeats are read before READY (and without a watchdog).
const IDLE_POLL: Duration = Duration::from_millis(100);

/// What the service manager asked for, read from the environment once at start.
#[derive(Debug, Clone, Copy)]
pub(super) struct ServiceManager {
    /// The watchdog interval (`WATCHDOG_USEC`), if any.
    pub(super) watchdog: Option<Duration>,
}

impl ServiceManager {
    /// `Some` when started by a service manager listening on `NOTIFY_SOCKET`.
    pub(super) fn from_env() -> Option<Self> {
        std::env::var_os("NOTIFY_SOCKET")?;
        let var = |k| std::env::var(k).ok();
        let watchdog = liveness::watchdog_interval(
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        );
        Some(ServiceManager { watchdog })
    }

    /// How often the parts beat and the heartbeats are read: W/8, so a stall is timed to
    /// within an eighth of the interval.
    pub(super) fn poll(&self) -> Duration {
        self.watchdog
            .map_or(IDLE_POLL, |w| w / 8)
            .clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

/// Sends `states` in one datagram; a failure is logged (once per run at warn), never fatal.
fn send(states: &[NotifyState], warned: &mut bool) {
    if let Err(e) = sd_notify::notify(false, states) {
        if *warned {
            debug!(error = %e, "cannot notify the service manager");
        } else {
            warn!(error = %e, "cannot notify the service manager (NOTIFY_SOCKET)");
            *warned = true;
        }
    }
}

/// Tells the service manager how the agent is doing until `shutdown`, then `STOPPING=1`.
pub(super) async fn run(
    manager: ServiceManager,
    beats: Arc<Heartbeats>,
    stats: Arc<Stats>,
    pins: Vec<u8>,
    shutdown: Shutdown,
) {
    let mut watchdog = Watchdog::new(manager.watchdog, Instant::now());
    let mut ticker = tokio::time::interval(manager.poll());
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut warned = false;
    let mut last: (Instant, Snapshot) = (Instant::now(), stats.snapshot());
    let mut last_status: Option<Instant> = None;
    let mut note = String::new();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.wait() => break,
        }
        let now = Instant::now();
        let plan = watchdog.observe(beats.read(), now);
        match plan.change {
            Some(Change::Stalled { part, quiet }) => {
                warn!(
                    part = part.name(),
                    quiet_ms = quiet.as_millis() as u64,
                    "no progress: watchdog keep-alives stopped (systemd restarts the service if it stays stuck)"
                );
                note = format!("{} stalled; ", part.name());
            }
            Some(Change::Resumed) => {
                info!("progress again: watchdog keep-alives resumed");
                note.clear();
            }
            None => {}
        }
        let status_due = plan.ready
            || plan.ping
            || plan.change.is_some()
            || last_status.is_some_and(|t| now.duration_since(t) >= STATUS_EVERY);
        if !status_due {
            continue;
        }
        let snapshot = stats.snapshot();
        let rates = Rates::between(&last.1, &snapshot, now.duration_since(last.0));
        let status = format!(
            "{note}{}",
            crate::stats::summary_line(&pins, &rates, &snapshot)
        );
        last = (now, snapshot);
        last_status = Some(now);
        let mut states = Vec::with_capacity(3);
        if plan.ready {
            states.push(NotifyState::Ready);
            info!(
                watchdog_ms = manager.watchdog.map(|w| w.as_millis() as u64),
                "told the service manager: ready"
            );
        }
        if plan.ping {
            states.push(NotifyState::Watchdog);
        }
        states.push(NotifyState::Status(&status));
        send(&states, &mut warned);
    }
    send(
        &[
            NotifyState::Stopping,
            NotifyState::Status("stopping: flushing batches, then disconnecting"),
        ],
        &mut warned,
    );
}
