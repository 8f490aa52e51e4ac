//! The emulated board: a memory file standing for the physical address space, shared with an
//! emulator thread (or `edgetap emulator` process) that executes the agent's own control blocks.
//!
//! The agent maps registers and DMA memory from the file with the same code it uses on
//! `/dev/mem`; only where memory (and, in lock-step mode, time) comes from differs.

pub mod board_file;
mod clocks;
pub mod dma;
mod machine;
mod mailbox;
mod pacer;
mod pads;
mod settings;
mod wires;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::hw::board::BoardKind;
use crate::hw::clock::HostClock;
use crate::hw::HwError;
use crate::shutdown::Shutdown;
use crate::vcd::Trace;

pub use board_file::{read_header, BoardHeader};
pub use dma::StopReason;
pub use settings::{EmulatedConfig, FaultsConfig};

use clocks::{Lockstep, RealtimeClock};
use machine::Machine;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    /// The board file is unusable.
    #[error("{path}: {reason}")]
    File {
        /// The board file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Mapping the board file failed.
    #[error(transparent)]
    Hw(#[from] HwError),
    /// The signal could not be read.
    #[error("signal {path}: {source}")]
    Signal {
        /// The VCD file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: crate::vcd::VcdError,
    },
    /// The emulator thread could not start.
    #[error("cannot start the emulator thread: {0}")]
    Thread(std::io::Error),
}

/// Something the emulated board saw, in emulated time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmuEvent {
    /// A channel started executing at control block `cb`.
    ChannelStarted {
        /// Channel number.
        ch: u8,
        /// Bus address of the first control block.
        cb: u32,
    },
    /// A channel stopped.
    ChannelStopped {
        /// Channel number.
        ch: u8,
        /// Why.
        why: StopReason,
    },
    /// ABORT dropped a running channel's CB; it went on at `next` (0: the chain ended).
    ChannelAborted {
        /// Channel number.
        ch: u8,
        /// The CB loaded next.
        next: u32,
    },
    /// Fault injection stopped the pacing clocks (another user took them).
    PacerStolen,
    /// Fault injection reset a running channel.
    ChannelResetByFault {
        /// Channel number.
        ch: u8,
    },
    /// A control block named an address that does not exist.
    BusError {
        /// Channel number.
        ch: u8,
        /// What was wrong.
        why: String,
    },
    /// DMA memory was allocated.
    MemAllocated {
        /// Handle.
        handle: u32,
        /// First physical address.
        phys: u64,
        /// Bytes.
        size: u64,
    },
    /// DMA memory was locked.
    MemLocked {
        /// Handle.
        handle: u32,
    },
    /// DMA memory was unlocked.
    MemUnlocked {
        /// Handle.
        handle: u32,
    },
    /// DMA memory was released; `running_inside` lists channels still executing control blocks
    /// inside it (a teardown bug: on a Pi they would write into freed memory).
    MemReleased {
        /// Handle.
        handle: u32,
        /// Channels still running inside the block.
        running_inside: Vec<u8>,
    },
    /// A clock-manager write without the password was ignored.
    PasswordlessWriteIgnored {
        /// Register offset in the clock manager.
        reg: u64,
    },
    /// A pad took a pull (set through the GPIO pull registers).
    PullSet {
        /// GPIO number.
        pin: u8,
        /// The pull it has now.
        pull: crate::hw::pull::Pull,
    },
    /// A GPPUDCLK pulse had no effect on a pin (it broke the datasheet's timing).
    PullPulseIgnored {
        /// GPIO number.
        pin: u8,
        /// Why.
        why: &'static str,
    },
    /// A mailbox tag the emulator does not serve.
    MailboxTagUnsupported {
        /// The tag.
        tag: u32,
    },
}

/// How emulated time relates to the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Emulated time follows the wall clock.
    Realtime,
    /// Emulated time moves only when the sampler waits (deterministic).
    Lockstep,
}

/// Emulated time one control block takes on `board` (ns): as slow as the silicon's measured
/// rate ([`Board::cb_cost_ns`]), so a period the board cannot sustain falls behind here too.
pub fn cb_cost_ns(board: BoardKind) -> u32 {
    crate::hw::board::Board::emulated(board).cb_cost_ns()
}

/// Everything the emulator needs to start.
#[derive(Debug, Clone)]
pub struct EmuOptions {
    /// The board modelled.
    pub board: BoardKind,
    /// The board file; None: a fresh temporary one, removed when the emulator stops.
    pub mem: Option<PathBuf>,
    /// The signal driving the pins.
    pub signal: Option<Trace>,
    /// Start the signal over at its end.
    pub loop_signal: bool,
    /// Time mode.
    pub mode: Mode,
    /// UTC µs of emulated time 0 (lock-step clock); None: now.
    pub start_utc_us: Option<u64>,
    /// Faults to inject.
    pub faults: FaultsConfig,
    /// Emulated ns one control block takes.
    pub cb_cost_ns: u32,
    /// Jumper wires, [out, in]: the input follows the output (`sampler.emulated.loopback`).
    pub loopback: Vec<[u8; 2]>,
}

impl EmuOptions {
    /// Options from the emulated board's settings (reads the signal file).
    pub fn from_config(e: &EmulatedConfig) -> Result<EmuOptions, EmuError> {
        let signal = crate::vcd::read_file(&e.signal).map_err(|source| EmuError::Signal {
            path: e.signal.clone(),
            source,
        })?;
        Ok(EmuOptions {
            board: e.board,
            mem: None,
            signal: Some(signal),
            loop_signal: e.loop_,
            mode: if e.realtime {
                Mode::Realtime
            } else {
                Mode::Lockstep
            },
            start_utc_us: e.start_us,
            faults: e.faults.clone(),
            cb_cost_ns: cb_cost_ns(e.board),
            loopback: e.loopback.clone(),
        })
    }
}

/// A running emulator thread; stops (and removes a temporary board file) on drop.
pub struct Emulator {
    path: PathBuf,
    temporary: bool,
    stop: Shutdown,
    thread: Option<JoinHandle<()>>,
    events: Arc<Mutex<Vec<(u64, EmuEvent)>>>,
    clock: Arc<dyn HostClock>,
}

impl Emulator {
    /// Creates the board file and starts the emulator thread.
    pub fn start(opts: EmuOptions) -> Result<Emulator, EmuError> {
        let temporary = opts.mem.is_none();
        let path = opts.mem.clone().unwrap_or_else(board_file::temp_path);
        let mem = board_file::create(&path, opts.board)?;
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut machine = Machine::new(
            &mem,
            opts.board,
            opts.signal.as_ref(),
            opts.loop_signal,
            opts.faults.clone(),
            opts.cb_cost_ns,
            events.clone(),
        )?;
        machine.wire(&opts.loopback);
        let stop = Shutdown::new();
        let stall = (
            u64::from(opts.faults.consumer_stall_after_ms) * 1000,
            u64::from(opts.faults.consumer_stall_ms) * 1000,
        );
        let (clock, thread): (Arc<dyn HostClock>, _) = match opts.mode {
            Mode::Lockstep => {
                let start = opts
                    .start_utc_us
                    .unwrap_or_else(|| crate::hw::clock::SystemClock.utc_us());
                let lock = Arc::new(Lockstep::new(start, stall));
                let (l, s) = (lock.clone(), stop.clone());
                let t = std::thread::Builder::new()
                    .name("edgetap-emulator".into())
                    .spawn(move || lockstep_loop(&mut machine, &l, &s))
                    .map_err(EmuError::Thread)?;
                (lock, t)
            }
            Mode::Realtime => {
                let s = stop.clone();
                let t = std::thread::Builder::new()
                    .name("edgetap-emulator".into())
                    .spawn(move || realtime_loop(&mut machine, &s))
                    .map_err(EmuError::Thread)?;
                (Arc::new(RealtimeClock::new(stall)), t)
            }
        };
        drop(mem);
        Ok(Emulator {
            path,
            temporary,
            stop,
            thread: Some(thread),
            events,
            clock,
        })
    }

    /// The board file other code attaches to.
    pub fn mem_path(&self) -> &Path {
        &self.path
    }

    /// The clock a sampler on this board must use (lock-step: the only way time moves).
    pub fn clock(&self) -> Arc<dyn HostClock> {
        self.clock.clone()
    }

    /// Everything seen so far: (emulated ns, event).
    pub fn events(&self) -> Vec<(u64, EmuEvent)> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits (wall time, bounded) until an event matches `pred`; returns it.
    pub fn wait_for(
        &self,
        mut pred: impl FnMut(&EmuEvent) -> bool,
        timeout: Duration,
    ) -> Option<EmuEvent> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some((_, e)) = self.events().into_iter().find(|(_, e)| pred(e)) {
                return Some(e);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.trigger();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if self.temporary {
            board_file::remove_temporary(&self.path);
        }
    }
}

/// Runs a realtime emulator on `opts` until `shutdown` (the `edgetap emulator` command).
pub fn run_until_stopped(opts: EmuOptions, shutdown: &Shutdown) -> Result<(), EmuError> {
    let emu = Emulator::start(EmuOptions {
        mode: Mode::Realtime,
        ..opts
    })?;
    tracing::info!(mem = %emu.mem_path().display(), "emulated board running");
    while !shutdown.sleep(Duration::from_millis(200)) {}
    drop(emu);
    Ok(())
}

/// Emulated time follows the wall clock; sleeps when ahead.
fn realtime_loop(m: &mut Machine, stop: &Shutdown) {
    let start = std::time::Instant::now();
    while !stop.is_triggered() {
        m.poll_registers();
        let target = start.elapsed().as_nanos() as u64 * 1000;
        let reached = m.run_until(target);
        m.show_timer();
        if reached >= target {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// Emulated time moves only as far as the sampler's waits grant.
fn lockstep_loop(m: &mut Machine, lock: &Lockstep, stop: &Shutdown) {
    while !stop.is_triggered() {
        // The grant is read before the registers: whatever the sampler wrote before granting
        // this time is seen before the time passes (a pull's settle waits depend on it).
        let target = lock.granted_ps();
        m.poll_registers();
        let reached = m.run_until(target);
        m.show_timer();
        if reached >= target {
            lock.reached(reached);
            lock.wait_for_grant(reached, Duration::from_micros(200));
        }
    }
    lock.reached(u64::MAX);
}
