//! The emulated board's memory file: a sparse file addressed by physical address, with a small
//! header at physical 0 so an agent in another process knows which board it attached to.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::hw::board::{Board, BoardKind};
use crate::hw::mmio::PhysMem;

use super::EmuError;

/// Words 0–2 of the header: "EDGETAP-EMU\0".
const MAGIC: [u32; 3] = [
    u32::from_le_bytes(*b"EDGE"),
    u32::from_le_bytes(*b"TAP-"),
    u32::from_le_bytes(*b"EMU\0"),
];
/// Header format version.
const VERSION: u32 = 1;
/// DRAM the emulated board has (physical 0 up): enough for the largest chain.
pub const DRAM_BYTES: u64 = 64 << 20;
/// Where the mailbox message buffer lives: the page after the header.
pub const MAILBOX_BUFFER_PHYS: u64 = 0x1000;
/// DMA memory is handed out above this address (header and mailbox below).
pub const ALLOC_START: u64 = 1 << 20;
/// Bytes of peripheral window modelled (covers DMA channel 15 at +0xE05000).
pub const PERIPH_BYTES: u64 = 16 << 20;

/// Header word indices.
mod word {
    pub const VERSION: u64 = 12;
    pub const BOARD: u64 = 16;
    pub const PERIPH_LO: u64 = 20;
    pub const PERIPH_HI: u64 = 24;
    pub const DRAM: u64 = 28;
    pub const MAILBOX: u64 = 32;
    pub const PID: u64 = 36;
    pub const HEARTBEAT: u64 = 40;
    pub const LIVE_ALLOCS: u64 = 44;
    pub const LIVE_KIB: u64 = 48;
    pub const LEN: usize = 52;
}

/// What the header tells an attaching agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardHeader {
    /// The board modelled.
    pub board: BoardKind,
    /// Physical peripheral base.
    pub periph_base: u64,
    /// DRAM bytes from physical 0.
    pub dram_bytes: u64,
    /// Physical address of the mailbox message buffer.
    pub mailbox_buffer_phys: u64,
    /// Process id of the emulator.
    pub pid: u32,
    /// Mailbox allocations not yet released (leaks show here).
    pub live_allocations: u32,
    /// KiB held by those allocations.
    pub live_kib: u32,
}

/// Physical peripheral base of `board` (the board facts live in `hw::board`).
pub fn periph_base(board: BoardKind) -> u64 {
    Board::emulated(board).periph_base
}

/// Creates (or truncates) a sparse board file for `board` at `path`.
pub fn create(path: &Path, board: BoardKind) -> Result<PhysMem, EmuError> {
    let io = |e: std::io::Error| EmuError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io)?;
    // Sparse: only the pages touched (header, DMA memory, registers) take memory.
    file.set_len(periph_base(board) + PERIPH_BYTES)
        .map_err(io)?;
    drop(file);
    let mem = PhysMem::open(path)?;
    let h = mem.map(0, word::LEN)?;
    h.write32(word::VERSION, VERSION);
    h.write32(
        word::BOARD,
        match board {
            BoardKind::Pi1 => 1,
            BoardKind::Pi3 => 3,
            BoardKind::Pi4 => 4,
        },
    );
    let base = periph_base(board);
    h.write32(word::PERIPH_LO, base as u32);
    h.write32(word::PERIPH_HI, (base >> 32) as u32);
    h.write32(word::DRAM, DRAM_BYTES as u32);
    h.write32(word::MAILBOX, MAILBOX_BUFFER_PHYS as u32);
    h.write32(word::PID, std::process::id());
    // The magic goes last: an agent never sees a half-written header as valid.
    for (i, m) in MAGIC.iter().enumerate() {
        h.write32(4 * i as u64, *m);
    }
    Ok(mem)
}

/// Reads the header of a board file (the agent side of an attach).
pub fn read_header(mem: &PhysMem) -> Result<BoardHeader, EmuError> {
    let bad = |reason: &str| EmuError::File {
        path: mem.path().to_path_buf(),
        reason: reason.into(),
    };
    let h = mem.map(0, word::LEN)?;
    if (0..3).any(|i| h.read32(4 * i as u64) != MAGIC[i]) {
        return Err(bad("not an emulated board file (no EDGETAP-EMU header)"));
    }
    if h.read32(word::VERSION) != VERSION {
        return Err(bad("board file written by another edgetap version"));
    }
    let board = match h.read32(word::BOARD) {
        1 => BoardKind::Pi1,
        3 => BoardKind::Pi3,
        4 => BoardKind::Pi4,
        _ => return Err(bad("unknown board kind in header")),
    };
    Ok(BoardHeader {
        board,
        periph_base: u64::from(h.read32(word::PERIPH_LO))
            | (u64::from(h.read32(word::PERIPH_HI)) << 32),
        dram_bytes: u64::from(h.read32(word::DRAM)),
        mailbox_buffer_phys: u64::from(h.read32(word::MAILBOX)),
        pid: h.read32(word::PID),
        live_allocations: h.read32(word::LIVE_ALLOCS),
        live_kib: h.read32(word::LIVE_KIB),
    })
}

/// Bumps the heartbeat word, so attached agents can tell the emulator is alive.
pub fn heartbeat(header: &crate::hw::mmio::Mapping) {
    let v = header.read32(word::HEARTBEAT);
    header.write32(word::HEARTBEAT, v.wrapping_add(1));
}

/// Publishes the mailbox allocations still live, so any process can see a leak.
pub fn show_allocations(header: &crate::hw::mmio::Mapping, count: u32, bytes: u64) {
    header.write32(word::LIVE_ALLOCS, count);
    header.write32(
        word::LIVE_KIB,
        u32::try_from(bytes / 1024).unwrap_or(u32::MAX),
    );
}

/// Bytes of the header mapping.
pub const HEADER_LEN: usize = word::LEN;

/// Name prefix of temporary board files: `edgetap-board-<pid>-<random>`.
const TEMP_PREFIX: &str = "edgetap-board-";

/// Temporary board files of this process not yet removed, for [`remove_temporaries`].
static TEMPORARIES: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A fresh board file path in /dev/shm (or the temp dir where /dev/shm is missing), recorded
/// so every exit path can remove it; stale board files of dead processes there are removed
/// first (a 4 GiB sparse file each).
pub fn temp_path() -> PathBuf {
    let dir = Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    remove_stale(&dir, |pid| {
        Path::new("/proc").join(pid.to_string()).exists()
    });
    let n = crate::random::os_random();
    let path = dir.join(format!("{TEMP_PREFIX}{}-{n:016x}", std::process::id()));
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.push(path.clone());
    }
    path
}

/// Removes the temporary board file `path` (when its emulator stops).
pub fn remove_temporary(path: &Path) {
    let _ = std::fs::remove_file(path);
    if let Ok(mut list) = TEMPORARIES.lock() {
        list.retain(|p| p != path);
    }
}

/// Removes every temporary board file of this process: for exit paths that skip destructors
/// (`std::process::exit`, the end of `main` while a thread still holds an emulator). The
/// mappings stay valid; only the names go.
pub fn remove_temporaries() {
    if let Ok(mut list) = TEMPORARIES.lock() {
        for path in list.drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Removes the board files in `dir` left by processes that are gone (`alive(pid)` false).
/// Returns how many were removed.
pub fn remove_stale(dir: &Path, alive: impl Fn(u32) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !alive(pid) && std::fs::remove_file(entry.path()).is_ok() {
            tracing::info!(file = %entry.path().display(), pid,
                "emulated board: removed the stale board file of a process that is gone");
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
#[path = "board_file_tests.rs"]
mod tests;
