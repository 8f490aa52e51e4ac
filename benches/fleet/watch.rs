//! The fleet's observer: one persistent-session subscriber to every agent's edges, status and
//! config results, and to the broker's `$SYS` publish counters. It checks each device's run/seq
//! for holes, stamps every edge's latency on receipt, and notes when each agent said `online`.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};
use serde_json::Value;

use crate::rig::utc_us;

/// The broker's count of PUBLISH packets received (from every client).
pub const SYS_RECEIVED: &str = "$SYS/broker/publish/messages/received";
/// The broker's count of PUBLISH packets sent.
pub const SYS_SENT: &str = "$SYS/broker/publish/messages/sent";

/// The batches of one device and one run.
#[derive(Debug, Default)]
pub struct Seqs {
    /// Every seq received (a duplicate, QoS 1's right, is counted apart).
    pub seen: BTreeSet<u64>,
    /// Copies received again.
    pub duplicates: u64,
}

impl Seqs {
    /// Seqs missing between the first and the last received.
    pub fn holes(&self) -> u64 {
        match (self.seen.first(), self.seen.last()) {
            (Some(a), Some(b)) => b - a + 1 - self.seen.len() as u64,
            _ => 0,
        }
    }
}

/// Everything seen so far.
#[derive(Debug, Default)]
pub struct Seen {
    /// Batches per (device, run).
    pub seqs: HashMap<(usize, u64), Seqs>,
    /// (receive µs, device, latency µs) of every edge, but the flood agent's (its own latency is
    /// not the question, and its 20,000 edges/s would crowd the rest out of memory).
    pub latency: Vec<(u64, usize, u64)>,
    /// (receive µs, device) of every live `online` (not a retained copy).
    pub online: Vec<(u64, usize)>,
    /// (receive µs, device, payload) of every config result.
    pub results: Vec<(u64, usize, Value)>,
    /// (receive µs, topic, value) of the `$SYS` counters.
    pub sys: Vec<(u64, &'static str, u64)>,
    /// Edge batches received.
    pub batches: u64,
    /// Payload bytes of the batches.
    pub batch_bytes: u64,
    /// Messages received of any kind.
    pub messages: u64,
    /// Edges received from the flood agent.
    pub flood_edges: u64,
    /// Connections of the subscriber the broker accepted, and how many of them resumed the
    /// session (all but the first should: the broker keeps it across its restart).
    pub connacks: (u64, u64),
}

/// The subscriber thread; stops when dropped.
pub struct Watch {
    /// What it saw.
    pub seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// `fleet-0123` → 123.
fn index(device: &str) -> Option<usize> {
    device.strip_prefix("fleet-")?.parse().ok()
}

impl Watch {
    /// Connects to 127.0.0.1:`port` with a persistent session and subscribes; returns once the
    /// subscription is acknowledged.
    pub fn connect(port: u16, flood_device: usize) -> Watch {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut opts = MqttOptions::new(format!("watch-{}", utc_us()), "127.0.0.1", port);
            opts.set_keep_alive(Duration::from_secs(10));
            opts.set_max_packet_size(16 << 20, 16 << 20);
            opts.set_clean_session(false);
            let (client, mut conn) = Client::new(opts, 1024);
            let mut ready = Some(ready_tx);
            while !stop2.load(Ordering::Relaxed) {
                match conn.recv_timeout(Duration::from_millis(100)) {
                    Ok(Ok(Event::Incoming(Incoming::ConnAck(ack)))) => {
                        if let Ok(mut s) = seen2.lock() {
                            s.connacks.0 += 1;
                            s.connacks.1 += u64::from(ack.session_present);
                        }
                        // A kept session keeps the subscriptions: subscribing again would
                        // only bring every retained status back.
                        if !ack.session_present {
                            for f in [
                                "edgetap/+/edges",
                                "edgetap/+/status",
                                "edgetap/+/config/result",
                                SYS_RECEIVED,
                                SYS_SENT,
                            ] {
                                let _ = client.try_subscribe(f, QoS::AtLeastOnce);
                            }
                        }
                    }
                    Ok(Ok(Event::Incoming(Incoming::SubAck(_)))) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Ok(Event::Incoming(Incoming::Publish(p)))) => {
                        let now = utc_us();
                        let Ok(mut s) = seen2.lock() else { break };
                        take(&mut s, now, &p.topic, &p.payload, p.retain, flood_device);
                    }
                    Ok(Ok(_)) => {}
                    // Broker away (the outage): retry without spinning.
                    Ok(Err(_)) => std::thread::sleep(Duration::from_millis(50)),
                    Err(rumqttc::RecvTimeoutError::Timeout) => {}
                    Err(rumqttc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let _ = client.try_disconnect();
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("watcher subscribed");
        Watch {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Runs `f` on what was seen.
    pub fn with<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.seen.lock().expect("watch state"))
    }

    /// Waits (bounded) until `pred` holds; false on timeout.
    pub fn wait(&self, pred: impl Fn(&Seen) -> bool, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.with(&pred) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Files one message.
fn take(s: &mut Seen, now: u64, topic: &str, payload: &[u8], retain: bool, flood: usize) {
    s.messages += 1;
    if let Some(name) = topic.strip_prefix("$SYS/broker/publish/messages/") {
        let key = if name == "received" {
            SYS_RECEIVED
        } else {
            SYS_SENT
        };
        if let Some(v) = std::str::from_utf8(payload)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            s.sys.push((now, key, v));
        }
        return;
    }
    let mut parts = topic.splitn(3, '/');
    let (Some(_), Some(dev), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let Some(dev) = index(dev) else { return };
    match rest {
        "status" if payload == b"online" && !retain => s.online.push((now, dev)),
        "config/result" => {
            if let Ok(v) = serde_json::from_slice(payload) {
                s.results.push((now, dev, v));
            }
        }
        "edges" => {
            s.batches += 1;
            s.batch_bytes += payload.len() as u64;
            let Ok(b) = serde_json::from_slice::<Value>(payload) else {
                return;
            };
            let (Some(run), Some(seq)) = (b["run"].as_u64(), b["seq"].as_u64()) else {
                return;
            };
            let seqs = s.seqs.entry((dev, run)).or_default();
            if !seqs.seen.insert(seq) {
                seqs.duplicates += 1;
                return;
            }
            if dev == flood {
                s.flood_edges += b["edges"].as_array().map_or(0, |e| e.len() as u64);
                return;
            }
            for e in b["edges"].as_array().into_iter().flatten() {
                if let Some(t) = e["t_us"].as_u64() {
                    s.latency.push((now, dev, now.saturating_sub(t)));
                }
            }
        }
        _ => {}
    }
}
