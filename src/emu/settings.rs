//! The emulated board's settings (`[sampler.emulated]`): owned here, by the layer they
//! configure; the sampler's settings hold them.

use crate::hw::board::BoardKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Settings of the emulated board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmulatedConfig {
    /// The board modelled.
    pub board: BoardKind,
    /// VCD file whose wires named `gpio<N>` drive GPIO N; relative to the config file.
    pub signal: PathBuf,
    /// Pace emulated time to the wall clock; false: lock-step (emulated time moves only while
    /// the sampler waits, deterministic, as fast as the machine goes).
    pub realtime: bool,
    /// Start the signal over at its end instead of holding the last levels.
    #[serde(rename = "loop")]
    pub loop_: bool,
    /// UTC µs of emulated time 0 (signal time 0); unset: when the emulator starts.
    pub start_us: Option<u64>,
    /// Attach to the board file of an emulator already running (`edgetap emulator --mem FILE`);
    /// unset: start one in-process on a fresh file.
    pub mem: Option<PathBuf>,
    /// Jumper wires of the in-process emulator, [out, in]: while `out` is an output, `in` reads
    /// what it drives (what `edgetap selftest --loopback OUT:IN` checks).
    pub loopback: Vec<[u8; 2]>,
    /// Faults the in-process emulator injects.
    pub faults: FaultsConfig,
}

impl Default for EmulatedConfig {
    fn default() -> Self {
        EmulatedConfig {
            board: BoardKind::Pi4,
            signal: PathBuf::new(),
            realtime: true,
            loop_: false,
            start_us: None,
            mem: None,
            loopback: Vec::new(),
            faults: FaultsConfig::default(),
        }
    }
}

/// Faults seen on real boards, injected by the emulator. All 0 = none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultsConfig {
    /// Random extra delay of up to this many ns on every paced FIFO write.
    pub jitter_ns: u32,
    /// The engine halts this long (µs) every `stall_every_ms` (the GPU's ~16 µs every 500 ms).
    pub stall_us: u32,
    /// Period of the stall (ms).
    pub stall_every_ms: u32,
    /// Someone else resets the channel this long after it first starts (ms); 0 = never.
    pub reset_after_ms: u32,
    /// The consumer stalls this long (ms) once, `consumer_stall_after_ms` after the start.
    pub consumer_stall_ms: u32,
    /// When the consumer stall happens (ms after the start).
    pub consumer_stall_after_ms: u32,
    /// The system timer starts this many µs before its 2^32 wrap; 0 = starts at 0.
    pub clo_before_wrap_us: u32,
    /// Channels another user's chain runs on when the board starts (it waits on a DREQ the
    /// emulator never raises, so it stays ACTIVE).
    pub foreign_channels: Vec<u8>,
    /// Another user stops the pacer's clock this long after the channel first starts (ms),
    /// once; 0 = never.
    pub pacer_stolen_after_ms: u32,
    /// Every Nth pulse on a `loopback` wire never reaches its input (a loose jumper); 0 = none.
    pub loopback_drop_every: u32,
}
