//! Leaving a broker: the clean close at shutdown (retained `offline`, then DISCONNECT so the
//! broker drops the last will) and the switch to new settings asked by the controller.

use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

use super::driver::Driver;
use super::error::MqttError;
use super::session::Publisher;
use crate::wire::status::OFFLINE;

impl Publisher {
    /// Closes the current connection cleanly (retained `offline` on the old status topic, then
    /// DISCONNECT) and takes back what the broker did not acknowledge, to resend on the next one.
    pub(crate) async fn leave(
        &mut self,
        driver: &mut Driver,
        limit: Duration,
    ) -> Result<(), MqttError> {
        if self.connected {
            self.close(driver, limit).await?;
        }
        self.lost_quietly();
        Ok(())
    }

    /// Forgets the connection without an event (a new client replaces it).
    fn lost_quietly(&mut self) {
        self.connected = false;
        self.disconnect_sent = false;
        self.down_since = Some(Instant::now());
        self.failures = 0;
        self.take_back_unacked();
        self.set_link(false);
    }

    /// Sends queued clears, then publishes `offline` (retained), waits for it, then sends
    /// DISCONNECT so the broker drops the last will; gives up after `limit`.
    pub(crate) async fn close(
        &mut self,
        driver: &mut Driver,
        limit: Duration,
    ) -> Result<(), MqttError> {
        let until = Instant::now() + limit;
        // Clears first: handed to rumqttc before `offline` and DISCONNECT, they go out before
        // them, so nothing of ours is left retained that we meant to delete.
        self.pump();
        while self.connected && !self.cleared_out.is_empty() {
            if !self.step(driver, until).await? {
                break;
            }
        }
        self.offline_accepted = false;
        self.status_out.push_back(OFFLINE);
        self.pump();
        while self.connected && !self.offline_accepted {
            if !self.step(driver, until).await? {
                break;
            }
        }
        if !self.connected {
            // The broker publishes our last will (`offline`) when it notices.
            warn!(broker = %self.broker, "connection lost while closing");
            return Ok(());
        }
        if self.client.try_disconnect().is_err() {
            return Ok(());
        }
        while self.connected && !self.disconnect_sent {
            if !self.step(driver, until).await? {
                break;
            }
        }
        if !self.disconnect_sent {
            warn!(broker = %self.broker, "DISCONNECT not sent within {limit:?}");
        }
        Ok(())
    }

    /// Handles one driver event; false when `until` passed first.
    async fn step(&mut self, driver: &mut Driver, until: Instant) -> Result<bool, MqttError> {
        tokio::select! {
            ev = driver.next() => {
                self.handle(ev.ok_or(MqttError::EventLoopStopped)?, driver);
                self.pump();
                Ok(true)
            }
            _ = tokio::time::sleep_until(until) => Ok(false),
        }
    }
}
