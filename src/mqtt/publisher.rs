//! The publisher: takes [`Outgoing`] entries from the queue and publishes them, reconnecting
//! with backoff, and shuts down cleanly once the queue is closed and drained.
//!
//! Flow control, from producer to socket:
//! * the sampling side pushes into a bounded [`DropOldestQueue`] and never waits;
//! * the publisher takes from that queue only while connected and while fewer than
//!   [`EDGE_WINDOW`] batches await the broker's acknowledgement, so an absent broker leaves
//!   batches in the bounded queue instead of an unbounded client buffer;
//! * rumqttc's request channel holds at most [`REQUEST_CAPACITY`] requests.
//!
//! Delivery is at least once: batches not acknowledged when the connection drops are resent, in
//! order, after the next ConnAck (a consumer may see a `(run, seq)` twice, never a hole that the
//! publisher could have filled).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::AsyncClient;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

use super::announce::Announcer;
use super::backoff::Backoff;
use super::control::{Command, ControlLink};
use super::driver::Driver;
use super::error::MqttError;
use super::held::HeldTopics;
use super::options::{mqtt_options, qos_from, REQUEST_CAPACITY};
use super::reporting::{stats_tick, stats_ticker, Reporter};
use super::session::Publisher;
use super::subscriptions::SessionRecord;
use crate::config::{MqttConfig, SpoolConfig, StatsConfig};
use crate::queue::{DropOldestQueue, Outgoing};
use crate::shutdown::Shutdown;
use crate::stats::Stats;
use crate::wire::device::Description;
use crate::wire::topics::Topics;

/// How long after shutdown is triggered the publisher keeps trying to deliver what is left.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Edge batches handed to the client but not yet acknowledged by the broker.
pub const EDGE_WINDOW: usize = 16;
/// How long the final `offline` publish and the DISCONNECT may take on a clean shutdown.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a give-up (drain timeout) still tries to say goodbye when connected.
const GIVE_UP_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// The spool's directory under `state_dir`.
pub const SPOOL_DIR: &str = "spool";
/// Period of the spool's housekeeping (interval syncs, gauges) and replay refills.
const SPOOL_TICK: Duration = Duration::from_millis(100);
/// How long leaving the old broker may take when the controller changes the connection.
const SWITCH_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Everything the publisher task needs; [`Publishing::run`] runs it.
pub struct Publishing {
    cfg: MqttConfig,
    device_id: String,
    queue: Arc<DropOldestQueue<Outgoing>>,
    stats: Arc<Stats>,
    shutdown: Shutdown,
    drain_timeout: Duration,
    control: Option<ControlLink>,
    state: Option<(PathBuf, SpoolConfig)>,
    stats_cfg: Option<(u64, StatsConfig)>,
    description: Option<Description>,
}

impl Publishing {
    /// A publisher of `queue` to the broker of `cfg`, without controller or spool.
    pub fn new(
        cfg: MqttConfig,
        device_id: String,
        queue: Arc<DropOldestQueue<Outgoing>>,
        stats: Arc<Stats>,
        shutdown: Shutdown,
    ) -> Self {
        Publishing {
            cfg,
            device_id,
            queue,
            stats,
            shutdown,
            drain_timeout: DRAIN_TIMEOUT,
            control: None,
            state: None,
            stats_cfg: None,
            description: None,
        }
    }

    /// How long after shutdown delivery is still tried (default [`DRAIN_TIMEOUT`]).
    pub fn drain_timeout(mut self, d: Duration) -> Self {
        self.drain_timeout = d;
        self
    }

    /// Attaches the remote-config controller: subscribes to the `config/set` topics, publishes
    /// the retained `config` and the results, and reconnects when told to.
    pub fn control(mut self, link: ControlLink) -> Self {
        self.control = Some(link);
        self
    }

    /// Keeps state in `state_dir`: the spool of unacknowledged batches (when `spool.enabled`)
    /// and the record of the MQTT session's subscriptions.
    pub fn state(mut self, state_dir: PathBuf, spool: SpoolConfig) -> Self {
        self.state = Some((state_dir, spool));
        self
    }

    /// Publishes the `stats` message of run `run` every `cfg.interval_s` while connected, the
    /// first one interval after the start.
    pub fn stats(mut self, run: u64, cfg: StatsConfig) -> Self {
        self.stats_cfg = Some((run, cfg));
        self
    }

    /// Describes the device: the retained `info` and, with `homeassistant.enabled`, Home
    /// Assistant discovery (updated by [`Command::Describe`]).
    pub fn describe(mut self, d: Description) -> Self {
        self.description = Some(d);
        self
    }

    /// Publishes what arrives on the queue until it is closed and drained (or shutdown was
    /// triggered more than the drain timeout ago), then publishes `offline` and disconnects.
    pub async fn run(self) -> Result<(), MqttError> {
        serve(self).await
    }
}

/// Publishes what arrives on `queue` until it is closed and drained (or `shutdown` was triggered
/// more than [`DRAIN_TIMEOUT`] ago), then publishes `offline` and disconnects.
pub async fn run(
    cfg: MqttConfig,
    device_id: String,
    queue: Arc<DropOldestQueue<Outgoing>>,
    stats: Arc<Stats>,
    shutdown: Shutdown,
) -> Result<(), MqttError> {
    Publishing::new(cfg, device_id, queue, stats, shutdown)
        .run()
        .await
}

/// A client and its event-loop driver for `cfg`.
fn connect(cfg: &MqttConfig, device_id: &str, topics: &Topics) -> (AsyncClient, Driver) {
    let options = mqtt_options(cfg, device_id, topics);
    // +3: room for the final DISCONNECT and the SUBSCRIBE beyond what `pump` may submit.
    let (client, eventloop) = AsyncClient::new(options, REQUEST_CAPACITY + 3);
    let driver = Driver::spawn(
        eventloop,
        Backoff::new(cfg.reconnect_min_ms, cfg.reconnect_max_ms),
    );
    info!(broker = %format!("{}:{}", cfg.host, cfg.port), client_id = %format!("edgetap-{device_id}"),
        "connecting to MQTT broker");
    (client, driver)
}

async fn serve(setup: Publishing) -> Result<(), MqttError> {
    let Publishing {
        cfg,
        device_id,
        queue,
        stats,
        shutdown,
        drain_timeout,
        mut control,
        state,
        stats_cfg,
        description,
    } = setup;
    let qos = qos_from(cfg.qos)?;
    let topics = Topics::new(cfg.topic_prefix.clone(), device_id.clone());
    let (client, mut driver) = connect(&cfg, &device_id, &topics);
    let broker = format!("{}:{}", cfg.host, cfg.port);
    let mut p = Publisher::new(client, topics, device_id.clone(), qos, stats, broker);
    let mut rx = control.as_mut().and_then(|c| c.commands.take());
    p.control = control;
    let spool_dir = state.as_ref().map(|(dir, _)| dir.join(SPOOL_DIR));
    if let Some((dir, spool_cfg)) = &state {
        p.session = SessionRecord::load(dir);
        p.announce = Announcer::load(dir);
        p.held = HeldTopics::load(dir);
        if spool_cfg.enabled {
            p.reconfigure_spool(dir.join(SPOOL_DIR), spool_cfg);
        }
    }
    if let Some(d) = description {
        p.describe(d);
    }
    let mut ticker = tokio::time::interval(SPOOL_TICK);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stats_every = stats_cfg.map(|(run, c)| {
        p.reporter = Some(Reporter::new(run, p.stats.snapshot()));
        stats_ticker(c.interval_s)
    });

    let mut drain_deadline: Option<Instant> = None;
    let mut queue_done = false;
    loop {
        if queue_done && p.idle() {
            p.spool_remaining(Vec::new());
            p.close(&mut driver, CLOSE_TIMEOUT).await?;
            info!("publisher stopped: every batch delivered");
            return Ok(());
        }
        // Connected: take batches as the window allows. Disconnected: take them only to spool
        // them, so an outage fills the disk (bounded, counted) rather than the queue.
        let can_take = !queue_done
            && if p.connected {
                p.edges_outstanding() < EDGE_WINDOW
            } else {
                p.spooling()
            };
        // A far deadline stands in for "none" so the select arm can stay a plain sleep.
        let deadline = drain_deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            ev = driver.next() => p.handle(ev.ok_or(MqttError::EventLoopStopped)?, &driver),
            item = queue.pop(), if can_take => match item {
                Some(o) => p.accept(o),
                None => queue_done = true,
            },
            cmd = recv(&mut rx), if rx.is_some() => match cmd {
                Some(Command::Spool(c)) => match &spool_dir {
                    Some(dir) => p.reconfigure_spool(dir.clone(), &c),
                    None => warn!("spool settings changed, but this publisher has no spool"),
                },
                Some(Command::Stats(c)) => {
                    if stats_every.is_some() {
                        stats_every = Some(stats_ticker(c.interval_s));
                    }
                }
                Some(cmd) => command(&mut p, &mut driver, &device_id, cmd).await?,
                None => rx = None,
            },
            _ = ticker.tick(), if p.spool_needs_tick() => p.spool_tick(),
            _ = stats_tick(&mut stats_every), if stats_every.is_some() => p.report_stats(),
            _ = shutdown.wait(), if drain_deadline.is_none() => {
                debug!(queued = queue.len(), "shutdown requested: draining");
                drain_deadline = Some(Instant::now() + drain_timeout);
            }
            _ = tokio::time::sleep_until(deadline), if drain_deadline.is_some() => {
                let rest = std::iter::from_fn(|| queue.try_pop())
                    .filter_map(|o| match o {
                        Outgoing::Batch(b) => Some(b),
                        _ => None,
                    })
                    .collect();
                let lost = p.spool_remaining(rest);
                if lost > 0 {
                    warn!(
                        lost,
                        connected = p.connected,
                        "giving up on delivery after {drain_timeout:?}: {lost} batches not delivered"
                    );
                } else {
                    info!("stopping after {drain_timeout:?}: undelivered batches are in the spool");
                }
                if p.connected {
                    p.close(&mut driver, GIVE_UP_CLOSE_TIMEOUT).await?;
                }
                return Ok(());
            }
        }
        p.pump();
    }
}

async fn recv(rx: &mut Option<tokio::sync::mpsc::Receiver<Command>>) -> Option<Command> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Carries out one command of the controller.
async fn command(
    p: &mut Publisher,
    driver: &mut Driver,
    device_id: &str,
    cmd: Command,
) -> Result<(), MqttError> {
    match cmd {
        Command::SetConfig(payload) => p.set_config(payload),
        // Handled by the loop, which knows the spool's directory and owns the stats ticker.
        Command::Spool(_) | Command::Stats(_) => {}
        Command::Result(payload) => p.push_result(payload),
        Command::Describe(d) => p.describe(*d),
        Command::Tune(cfg) => {
            if let Ok(qos) = qos_from(cfg.qos) {
                p.qos = qos;
            }
            driver.set_backoff(Backoff::new(cfg.reconnect_min_ms, cfg.reconnect_max_ms));
        }
        Command::Reconnect(cfg) => {
            // Clear what the new topics do not use (an old prefix's), leave the old broker
            // cleanly (its status topic says `offline`), then start over.
            let topics = Topics::new(cfg.topic_prefix.clone(), device_id);
            p.clear_stale(&topics);
            p.leave(driver, SWITCH_CLOSE_TIMEOUT).await?;
            if let Ok(qos) = qos_from(cfg.qos) {
                p.qos = qos;
            }
            p.topics = topics;
            let (client, new_driver) = connect(&cfg, device_id, &p.topics);
            p.client = client;
            *driver = new_driver;
            p.broker = format!("{}:{}", cfg.host, cfg.port);
            p.announce_on_new_client();
            if let Some(c) = &p.control {
                c.link.send_modify(|l| {
                    l.generation += 1;
                    l.connected = false;
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invalid_qos_fails_fast() {
        let cfg = MqttConfig {
            qos: 9,
            ..MqttConfig::default()
        };
        let r = run(
            cfg,
            "d".into(),
            Arc::new(DropOldestQueue::new(1)),
            Arc::new(Stats::default()),
            Shutdown::new(),
        )
        .await;
        assert!(matches!(r, Err(MqttError::InvalidQos(9))));
    }
}
