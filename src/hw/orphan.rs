//! Chains left running by a process that died without its teardown (`kill -9`, OOM killer,
//! power-cut of the agent only): found and stopped at the next start, and their mailbox memory
//! given back.
//!
//! The `/dev/vcio` driver does not track who allocated what, so a crashed process leaks its
//! allocation until reboot (fast with `gpu_mem=16`), and its engine keeps writing into memory
//! that is no longer anybody's. Before a channel starts, the sampler writes a record into
//! `state_dir`; a clean teardown removes it. A record found at start-up names a chain that may
//! still run: if the recorded channel's CONBLK_AD still points into the recorded chain, the
//! channel is stopped; then the mailbox handle is unlocked and released.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::channel::{self, ChannelRegs};
use super::regs::dma;

/// Name of the record inside `state_dir`.
pub const RECORD_FILE: &str = "dma-chain.json";

/// What a running chain leaves behind for the next start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRecord {
    /// Process that started the chain.
    pub pid: u32,
    /// The memory device the chain was started through (`/dev/mem`, or a board file).
    pub mem_device: PathBuf,
    /// Physical peripheral base.
    pub periph_base: u64,
    /// DMA channel.
    pub channel: u8,
    /// Bus address of every page of the chain's memory, first CB first.
    pub first_bus: u32,
    /// Bytes of the chain's memory.
    pub bytes: u32,
    /// Bus addresses of the chain's pages (pagemap memory is scattered).
    pub pages: Vec<u32>,
    /// The firmware's handle of the memory, when it came from the mailbox.
    pub mailbox_handle: Option<u32>,
}

impl ChainRecord {
    /// Whether the channel, showing `conblk_ad`, is still executing this chain.
    pub fn still_runs(&self, conblk_ad: u32) -> bool {
        conblk_ad != 0
            && self
                .pages
                .iter()
                .any(|&p| (p..p.saturating_add(4096)).contains(&conblk_ad))
    }
}

/// The record's path in `state_dir`.
pub fn record_path(state_dir: &Path) -> PathBuf {
    state_dir.join(RECORD_FILE)
}

/// Writes the record (atomically: a half-written record is never read back).
pub fn save(state_dir: &Path, record: &ChainRecord) -> std::io::Result<()> {
    crate::private_fs::create_dir_all(state_dir)?;
    let path = record_path(state_dir);
    let tmp = state_dir.join(format!("{RECORD_FILE}.tmp"));
    let text = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    crate::private_fs::write(&tmp, &text)?;
    std::fs::rename(&tmp, &path)
}

/// Reads the record left in `state_dir`, if any (an unreadable one is logged and ignored).
pub fn load(state_dir: &Path) -> Option<ChainRecord> {
    let path = record_path(state_dir);
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(r) => Some(r),
        Err(e) => {
            warn!(path = %path.display(), error = %e, "unreadable DMA chain record ignored");
            let _ = std::fs::remove_file(&path);
            None
        }
    }
}

/// Removes the record (clean teardown, or after recovery).
pub fn forget(state_dir: &Path) {
    let path = record_path(state_dir);
    if let Err(e) = std::fs::remove_file(&path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            warn!(path = %path.display(), error = %e, "cannot remove the DMA chain record");
        }
    }
}

/// Whether process `pid` is alive (then its chain is not an orphan: leave it alone).
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// What recovery did, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovered {
    /// The recorded chain was still running and has been stopped.
    Stopped,
    /// The recorded channel no longer ran that chain: nothing to stop.
    NotRunning,
}

/// Stops the recorded chain on `regs` (the recorded channel's registers) if it still runs
/// there; a channel now running someone else's chain is left alone.
pub fn stop_orphan(record: &ChainRecord, regs: &impl ChannelRegs) -> Recovered {
    let conblk = regs.read32(dma::CONBLK_AD);
    if record.still_runs(conblk) {
        channel::stop(regs);
        info!(
            channel = record.channel,
            pid = record.pid,
            conblk = format_args!("{conblk:#010x}"),
            "stopped a DMA chain left running by a previous run that did not tear down"
        );
        Recovered::Stopped
    } else {
        Recovered::NotRunning
    }
}

#[cfg(test)]
#[path = "orphan_tests.rs"]
mod tests;
