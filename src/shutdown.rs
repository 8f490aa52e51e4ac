//! A shutdown signal shared by the sampling thread (blocking) and the publisher (async).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Cloneable handle: one `trigger` stops everyone, blocking sleepers and async waiters alike.
#[derive(Clone, Debug)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    stopped: Mutex<bool>,
    condvar: Condvar,
    watch: tokio::sync::watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A new, untriggered signal.
    pub fn new() -> Self {
        let (watch, _) = tokio::sync::watch::channel(false);
        Shutdown {
            inner: Arc::new(Inner {
                stopped: Mutex::new(false),
                condvar: Condvar::new(),
                watch,
            }),
        }
    }

    /// Asks everything holding this signal to stop. Idempotent.
    pub fn trigger(&self) {
        let mut stopped = self.inner.stopped.lock().unwrap_or_else(|e| e.into_inner());
        *stopped = true;
        self.inner.condvar.notify_all();
        self.inner.watch.send_replace(true);
    }

    /// Whether `trigger` has been called.
    pub fn is_triggered(&self) -> bool {
        *self.inner.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps for `duration` unless triggered first; returns true when triggered.
    pub fn sleep(&self, duration: Duration) -> bool {
        let stopped = self.inner.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let (stopped, _) = self
            .inner
            .condvar
            .wait_timeout_while(stopped, duration, |s| !*s)
            .unwrap_or_else(|e| e.into_inner());
        *stopped
    }

    /// Completes once `trigger` has been called.
    pub async fn wait(&self) {
        let mut rx = self.inner.watch.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = rx.wait_for(|s| *s).await;
    }
}

#[cfg(test)]
#[path = "shutdown_tests.rs"]
mod tests;
