//! The hardware room: the only place with `unsafe`. Everything here runs identically on
//! `/dev/mem` (a Pi) and on the emulated board's memory file; only where memory comes from differs.
//!
//! Pure parts (register values, control-block layouts, board detection) are unit-tested on any
//! machine; the parts that touch memory are tested against the emulated board (`emu`, which sits
//! above this layer).

pub mod access;
pub mod backends;
pub mod barrier;
pub mod board;
pub mod buspages;
pub mod chain;
pub mod channel;
pub mod check;
pub mod chipselect;
pub mod clock;
mod devicetree;
pub mod dmamem;
pub mod gpio_claim;
pub mod gpio_out;
pub mod gpiochip;
pub mod lineplan;
pub mod mailbox;
pub mod mmio;
pub mod orphan;
pub mod pacing;
pub mod pagemap;
pub mod periph;
pub mod pull;
#[cfg(test)]
pub(crate) mod recorder;
pub mod regs;
pub mod selftest;
pub mod teardown;

use std::path::PathBuf;

/// Why a hardware operation failed. Each variant names the file, address or setting involved.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    /// A memory or device file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A window of physical memory could not be mapped.
    #[error("cannot map {len:#x} bytes at physical {phys:#x} from {path}: {source}")]
    Map {
        /// The memory file.
        path: PathBuf,
        /// First physical address.
        phys: u64,
        /// Bytes asked for.
        len: usize,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The hardware did not reach the expected state in time.
    #[error("timed out waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
    },
    /// The hardware or firmware refused or failed a request.
    #[error("{0}")]
    Device(String),
    /// A setting cannot be used on this board (names the key and the reason).
    #[error("{field}: {reason}")]
    Settings {
        /// Config key at fault.
        field: String,
        /// Why it cannot be used.
        reason: String,
    },
}
