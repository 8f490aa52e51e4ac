//! Runs the rumqttc event loop in its own task and forwards what it reports.
//!
//! Why a separate task: `EventLoop::poll` is not cancel-safe while it writes a packet, so it must
//! not sit in a `select!` next to the queue. Why the resume handshake: when the connection drops,
//! requests already handed to rumqttc (its channel, its pending list) would either be discarded
//! silently (clean session) or replayed with stale packet ids. The publisher re-queues every
//! unacknowledged batch itself, so the driver waits until the publisher has stopped submitting,
//! then discards rumqttc's leftovers, then sleeps the backoff delay before the next attempt.
//! Sleeping there is also what keeps `poll` from spinning while the broker is down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{ConnectionError, Event, Incoming};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::adapter::{Loop, Polled};
use super::backoff::Backoff;
use super::oversize::{oversize, remedy};
use super::reasons::Rejection;
use crate::random::os_random;

/// Events buffered between the driver and the publisher: enough to absorb a burst of acks.
const EVENT_CAPACITY: usize = 64;

/// What the driver reports.
#[derive(Debug)]
pub(crate) enum LoopEvent {
    /// A packet sent or received.
    Event(Event),
    /// MQTT 5: the largest packet the broker takes on this connection (its CONNACK's Maximum
    /// Packet Size; `None`: no limit announced). Comes just before the CONNACK's event.
    BrokerLimit(Option<u32>),
    /// MQTT 5: the broker refused the publish with packet id `pkid`.
    Rejected { pkid: u16, reason: Rejection },
    /// MQTT 5: a message carrying a Response Topic (unchecked) and maybe Correlation Data.
    Request {
        publish: rumqttc::Publish,
        topic: String,
        correlation: Option<Vec<u8>>,
    },
    /// A connection attempt failed or the connection dropped; the next attempt is in `retry_in`
    /// once the publisher calls [`Driver::resume`].
    Lost {
        error: ConnectionError,
        retry_in: Duration,
    },
}

/// Handle to the event-loop task; dropping it aborts the task (and closes the socket).
#[derive(Debug)]
pub(crate) struct Driver {
    events: mpsc::Receiver<LoopEvent>,
    resume: mpsc::Sender<()>,
    /// New reconnect delays, taken by the task before its next delay.
    backoff: Arc<Mutex<Option<Backoff>>>,
    task: JoinHandle<()>,
}

impl Driver {
    /// Starts polling `eventloop`, waiting `backoff` delays between failed attempts.
    pub(crate) fn spawn(eventloop: Loop, backoff: Backoff) -> Driver {
        let (events_tx, events) = mpsc::channel(EVENT_CAPACITY);
        let (resume, resume_rx) = mpsc::channel(1);
        let next = Arc::new(Mutex::new(None));
        let task = tokio::spawn(drive(
            eventloop,
            backoff,
            next.clone(),
            events_tx,
            resume_rx,
        ));
        Driver {
            events,
            resume,
            backoff: next,
            task,
        }
    }

    /// Uses `backoff` for the delays after the next failure (a remote config change).
    pub(crate) fn set_backoff(&self, backoff: Backoff) {
        *self.backoff.lock().unwrap_or_else(|e| e.into_inner()) = Some(backoff);
    }

    /// The next event; `None` if the task has ended (it only ends when the publisher is gone or
    /// on a panic).
    pub(crate) async fn next(&mut self) -> Option<LoopEvent> {
        self.events.recv().await
    }

    /// After a [`LoopEvent::Lost`]: the publisher has re-queued what was unacknowledged and
    /// submits nothing until the next ConnAck, so the driver may discard and reconnect.
    pub(crate) fn resume(&self) {
        // Full means a resume is already pending; closed means the task is gone and `next`
        // reports it.
        let _ = self.resume.try_send(());
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn drive(
    mut eventloop: Loop,
    mut backoff: Backoff,
    next: Arc<Mutex<Option<Backoff>>>,
    events: mpsc::Sender<LoopEvent>,
    mut resume: mpsc::Receiver<()>,
) {
    // When the broker accepted the current connection: how long it stays up decides whether
    // the delays start over (see `Backoff::connection_ended`).
    let mut up_since: Option<std::time::Instant> = None;
    loop {
        match eventloop.poll().await {
            Ok(polled) => {
                let polled = match polled {
                    Polled::Connected { event, max_packet } => {
                        if events
                            .send(LoopEvent::BrokerLimit(max_packet))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        Polled::Event(event)
                    }
                    other => other,
                };
                let ev = match polled {
                    Polled::Event(event) => {
                        if matches!(event, Event::Incoming(Incoming::ConnAck(_))) {
                            up_since = Some(std::time::Instant::now());
                            // What an oversized message changed applies to this connection
                            // only (the options are read at connect): the next one is back to
                            // the usual.
                            eventloop.connected();
                        }
                        LoopEvent::Event(event)
                    }
                    Polled::Rejected { pkid, reason } => LoopEvent::Rejected { pkid, reason },
                    Polled::Connected { event, .. } => LoopEvent::Event(event),
                    Polled::Request {
                        publish,
                        topic,
                        correlation,
                    } => LoopEvent::Request {
                        publish,
                        topic,
                        correlation,
                    },
                };
                if events.send(ev).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                if let Some(b) = next.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    backoff = b;
                }
                if let Some(t) = up_since.take() {
                    backoff.connection_ended(t.elapsed());
                }
                if let Some(r) = oversize(&error).map(remedy) {
                    eventloop.apply(r);
                }
                let retry_in = backoff.next_delay(os_random());
                if events
                    .send(LoopEvent::Lost { error, retry_in })
                    .await
                    .is_err()
                {
                    return;
                }
                if resume.recv().await.is_none() {
                    return;
                }
                // All of it belongs to the dead connection and the publisher resends batches.
                eventloop.discard();
                tokio::time::sleep(retry_in).await;
            }
        }
    }
}
