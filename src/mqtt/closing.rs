//! Leaving a broker cleanly, as a state machine: the clears still queued go out first (so
//! nothing of ours is left retained that we meant to delete), then the retained `offline`,
//! which the broker must accept, then DISCONNECT, so the broker drops the last will. Used at
//! shutdown and when the controller switches the connection to new settings.
//!
//! The shell drives it: it asks [`Closing::advance`] what to do, carries it out (for
//! [`CloseStep::Wait`]: hands over what is due, then feeds the publisher the next event) and
//! says when its time limit has passed; once it has, no step waits, the next one is tried at
//! once.

use super::publisher::Publisher;

/// What the shell does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseStep {
    /// Pump, then wait for the next event (or the time limit).
    Wait,
    /// Send DISCONNECT; if the client cannot take it, the close is over.
    Disconnect,
    /// The close is over.
    Done(Closed),
}

/// How a close ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// `offline` accepted (or its wait given up) and DISCONNECT written.
    Clean,
    /// The connection dropped first: the broker publishes the last will (`offline`).
    Lost,
    /// DISCONNECT was not written within the time limit.
    DisconnectNotSent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Clearing,
    Offline,
    Disconnecting,
    Done(Closed),
}

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct Closing {
    phase: Phase,
}

impl Default for Closing {
    fn default() -> Self {
        Closing {
            phase: Phase::Clearing,
        }
    }
}

impl Closing {
    /// The next step given the publisher's state; `expired`: the time limit has passed, so no
    /// step waits any more.
    pub(crate) fn advance(&mut self, p: &mut Publisher, expired: bool) -> CloseStep {
        loop {
            match self.phase {
                Phase::Clearing => {
                    if p.connected() && p.clears_pending() && !expired {
                        return CloseStep::Wait;
                    }
                    p.queue_offline();
                    self.phase = Phase::Offline;
                    // Give the pump a chance to hand `offline` over before waiting on it.
                    if p.connected() && !expired {
                        return CloseStep::Wait;
                    }
                }
                Phase::Offline => {
                    if p.connected() && !p.session.offline_accepted && !expired {
                        return CloseStep::Wait;
                    }
                    if !p.connected() {
                        self.phase = Phase::Done(Closed::Lost);
                        continue;
                    }
                    self.phase = Phase::Disconnecting;
                    return CloseStep::Disconnect;
                }
                Phase::Disconnecting => {
                    if p.connected() && !p.session.disconnect_sent && !expired {
                        return CloseStep::Wait;
                    }
                    let end = if p.session.disconnect_sent {
                        Closed::Clean
                    } else {
                        Closed::DisconnectNotSent
                    };
                    self.phase = Phase::Done(end);
                }
                Phase::Done(end) => return CloseStep::Done(end),
            }
        }
    }

    /// The client could not take the DISCONNECT: the close is over.
    pub(crate) fn disconnect_refused(&mut self) {
        self.phase = Phase::Done(Closed::Clean);
    }
}

#[cfg(test)]
#[path = "closing_tests.rs"]
mod tests;
