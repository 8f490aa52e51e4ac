//! Liveness for the service manager's watchdog. The sampling thread and the publisher each count
//! their progress in [`Heartbeats`]; [`Watchdog`] decides from those counts, at times it is
//! given, when the service is ready and whether a keep-alive may go out. A part that stops
//! making progress stops the keep-alives, so systemd restarts the service. Pure: the notify
//! socket is written by the agent's shell (`agent::notify`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Progress counters, bumped by the parts whose liveness the watchdog judges.
#[derive(Debug, Default)]
pub struct Heartbeats {
    sampling: AtomicU64,
    publishing: AtomicU64,
}

impl Heartbeats {
    /// The sampling thread went once round its loop (a block taken, or a config applied).
    pub fn sampling(&self) {
        self.sampling.fetch_add(1, Ordering::Relaxed);
    }

    /// The publisher went once round its loop (or its heartbeat timer fired).
    pub fn publishing(&self) {
        self.publishing.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn read(&self) -> Beats {
        Beats {
            sampling: self.sampling.load(Ordering::Relaxed),
            publishing: self.publishing.load(Ordering::Relaxed),
        }
    }
}

/// The counts of [`Heartbeats`] at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Beats {
    /// Rounds of the sampling thread.
    pub sampling: u64,
    /// Rounds of the publisher.
    pub publishing: u64,
}

/// A part of the agent whose progress is watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The sampling thread (sampler → pipeline → batcher → queue).
    Sampling,
    /// The publisher task (queue → broker).
    Publishing,
}

impl Part {
    /// The name used in logs and in `STATUS=`.
    pub fn name(self) -> &'static str {
        match self {
            Part::Sampling => "sampling",
            Part::Publishing => "publisher",
        }
    }
}

/// A change in a part's liveness worth a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `part` made no progress for `quiet`: keep-alives stop.
    Stalled {
        /// The part.
        part: Part,
        /// How long it has been quiet.
        quiet: Duration,
    },
    /// Every part makes progress again: keep-alives resume.
    Resumed,
}

/// What to tell the service manager after one observation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Send `READY=1` (once: both parts have run).
    pub ready: bool,
    /// Send `WATCHDOG=1`.
    pub ping: bool,
    /// A liveness change to log (and show in `STATUS=`).
    pub change: Option<Change>,
}

/// Decides readiness and keep-alives from heartbeat counts observed at given times.
///
/// Ready once both counts are non-zero. With a watchdog interval W, a keep-alive is due every
/// W/2 (systemd's advice) and is sent only while each part's count changed within the last
/// W/2: a part quiet for longer stops them, and systemd restarts the service within about W.
/// Observe more often than W/2 (the agent does every W/8) so a change is timed closely.
#[derive(Debug)]
pub struct Watchdog {
    /// Keep-alive period (W/2); `None`: no watchdog, only readiness.
    ping_every: Option<Duration>,
    ready: bool,
    last_ping: Option<Instant>,
    /// Last count seen and when it last changed, per part.
    sampling: (u64, Instant),
    publishing: (u64, Instant),
    stalled: Option<Part>,
}

impl Watchdog {
    /// A watchdog with interval `watchdog` (`WATCHDOG_USEC`), starting its clocks at `now`.
    pub fn new(watchdog: Option<Duration>, now: Instant) -> Self {
        Watchdog {
            ping_every: watchdog.map(|w| w / 2).filter(|p| !p.is_zero()),
            ready: false,
            last_ping: None,
            sampling: (0, now),
            publishing: (0, now),
            stalled: None,
        }
    }

    /// The keep-alive period, if there is a watchdog.
    pub fn ping_every(&self) -> Option<Duration> {
        self.ping_every
    }

    /// Whether `READY=1` was planned already.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The part found quiet at the last observation, if any.
    pub fn stalled(&self) -> Option<Part> {
        self.stalled
    }

    /// Takes the counts seen at `now` and says what to send.
    pub fn observe(&mut self, beats: Beats, now: Instant) -> Plan {
        for (track, count) in [
            (&mut self.sampling, beats.sampling),
            (&mut self.publishing, beats.publishing),
        ] {
            if track.0 != count {
                *track = (count, now);
            }
        }
        let mut plan = Plan::default();
        if !self.ready {
            if beats.sampling == 0 || beats.publishing == 0 {
                return plan;
            }
            self.ready = true;
            plan.ready = true;
            plan.ping = self.ping_every.is_some();
            if plan.ping {
                self.last_ping = Some(now);
            }
            return plan;
        }
        let Some(every) = self.ping_every else {
            return plan;
        };
        let quiet = [
            (
                Part::Sampling,
                now.saturating_duration_since(self.sampling.1),
            ),
            (
                Part::Publishing,
                now.saturating_duration_since(self.publishing.1),
            ),
        ]
        .into_iter()
        .find(|&(_, q)| q > every);
        match (quiet, self.stalled) {
            (Some((part, quiet)), before) => {
                if before != Some(part) {
                    plan.change = Some(Change::Stalled { part, quiet });
                }
                self.stalled = Some(part);
                return plan;
            }
            (None, Some(_)) => {
                self.stalled = None;
                plan.change = Some(Change::Resumed);
            }
            (None, None) => {}
        }
        let due = self
            .last_ping
            .map_or(true, |last| now.saturating_duration_since(last) >= every);
        if due || plan.change.is_some() {
            plan.ping = true;
            self.last_ping = Some(now);
        }
        plan
    }
}

/// The watchdog interval systemd asks for, as `sd_watchdog_enabled(3)` reads it: `WATCHDOG_USEC`
/// (µs, > 0), applying to this process unless `WATCHDOG_PID` names another one.
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    match pid.map(|p| p.trim().parse::<u32>()) {
        None => {}
        Some(Ok(p)) if p == own_pid => {}
        Some(_) => return None,
    }
    Some(Duration::from_micros(usec))
}

#[cfg(test)]
#[path = "liveness_tests.rs"]
mod tests;
