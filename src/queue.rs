//! The bounded hand-off between the sampling side and the publisher: pushing never blocks; when
//! full, the oldest entry is dropped and the drop is reported to the caller so it can be counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::Notify;

use crate::edges::batch::Batch;
use crate::edges::PinLevel;
use crate::meter::MeterEvent;

/// What the sampling side hands to the publisher.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// Levels of the watched pins when sampling (re)started: published as state, not as edges.
    Levels(Vec<PinLevel>),
    /// A closed batch.
    Batch(Batch),
    /// Pins no longer watched (remote config change): their retained state is cleared.
    Removed(Vec<u8>),
    /// A meter reading or a watchdog event.
    Meter(MeterEvent),
}

/// A bounded FIFO that drops its oldest entry instead of blocking the producer.
#[derive(Debug)]
pub struct DropOldestQueue<T> {
    inner: Mutex<State<T>>,
    capacity: AtomicUsize,
    notify: Notify,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

impl<T> DropOldestQueue<T> {
    /// A queue holding at most `capacity` (≥ 1) entries.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        DropOldestQueue {
            inner: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.min(4096)),
                closed: false,
            }),
            capacity: AtomicUsize::new(capacity),
            notify: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A panic while holding the lock leaves a consistent VecDeque, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `item`; returns the entry dropped to make room, if any.
    pub fn push(&self, item: T) -> Option<T> {
        let dropped = {
            let mut s = self.state();
            let capacity = self.capacity.load(Ordering::Relaxed);
            let mut dropped = None;
            // Several at once only right after the capacity was lowered; the newest is reported.
            while s.items.len() >= capacity {
                dropped = s.items.pop_front();
            }
            s.items.push_back(item);
            dropped
        };
        self.notify.notify_one();
        dropped
    }

    /// Changes the capacity (≥ 1). Entries beyond a lowered capacity stay until the next push,
    /// which drops the oldest down to the new size.
    pub fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity.max(1), Ordering::Relaxed);
    }

    /// Takes the oldest entry without waiting.
    pub fn try_pop(&self) -> Option<T> {
        self.state().items.pop_front()
    }

    /// Puts an entry back at the front (e.g. a publish that could not be handed over).
    pub fn push_front(&self, item: T) {
        let mut s = self.state();
        if s.items.len() >= self.capacity.load(Ordering::Relaxed) {
            // The queue refilled meanwhile: keep the newer entries, like push does.
            return;
        }
        s.items.push_front(item);
    }

    /// Waits for the oldest entry; `None` once the queue is closed and empty.
    pub async fn pop(&self) -> Option<T> {
        loop {
            let notified = self.notify.notified();
            {
                let mut s = self.state();
                if let Some(item) = s.items.pop_front() {
                    return Some(item);
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Marks the end of input: `pop` drains what is left, then returns `None`.
    pub fn close(&self) {
        self.state().closed = true;
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Whether `close` has been called.
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.state().items.len()
    }

    /// Whether no entry is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
