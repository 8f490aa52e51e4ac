//! Teardown that cannot be skipped: a running DMA chain keeps writing into its memory after the
//! process that set it up has gone. If that memory is released (and reused), the engine corrupts
//! whatever lives there next. So every running channel is registered here, and stopped
//!
//! * when its [`ChannelGuard`] drops (normal exit, error paths, unwinding), before the memory,
//! * from a signal handler on SIGINT, SIGTERM, SIGHUP and SIGQUIT,
//! * from a signal handler on the crash signals SIGBUS, SIGSEGV, SIGABRT, SIGILL and SIGFPE,
//!   which then lets the signal's previous (default) action kill the process as before,
//! * from the panic hook, before the panic unwinds or aborts.
//!
//! `kill -9` cannot be caught: for that, the sampler leaves a record in `state_dir` and the
//! next start stops the orphaned chain (see `orphan`).
//!
//! Stopping twice is harmless, so every path simply stops everything registered. The signal
//! handlers also give pins the selftest claimed as outputs their function back (`gpio_claim`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

use super::channel::{self, ChannelRegs};
use super::mmio::Mapping;
use super::HwError;

/// Channels that may run at once (the sampler uses one; the rest is headroom for restarts).
const SLOTS: usize = 4;

/// Addresses of registered channels' register blocks in this process; 0 = free slot.
static CHANNELS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// Set once an emergency stop (signal or panic) ran: a sampler must not restart after it.
static FIRED: AtomicBool = AtomicBool::new(false);

/// Installs the signal handlers and panic hook once per process.
static INSTALL: Once = Once::new();

/// Keeps a channel registered for emergency stops; stops it on drop.
///
/// Declare it *before* the DMA memory in a struct: fields drop in order, so the channel is
/// stopped before the memory goes back.
#[derive(Debug)]
pub struct ChannelGuard {
    slot: usize,
    regs: Mapping,
}

impl ChannelGuard {
    /// Registers the channel whose registers `regs` maps (before it is started).
    pub fn new(regs: Mapping) -> Result<ChannelGuard, HwError> {
        install()?;
        let addr = regs.base_addr();
        for (slot, c) in CHANNELS.iter().enumerate() {
            if c.compare_exchange(0, addr, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Ok(ChannelGuard { slot, regs });
            }
        }
        Err(HwError::Device(format!(
            "more than {SLOTS} DMA channels registered for teardown"
        )))
    }

    /// The channel's registers.
    pub fn regs(&self) -> &Mapping {
        &self.regs
    }
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        channel::stop(&self.regs);
        CHANNELS[self.slot].store(0, Ordering::SeqCst);
    }
}

/// Whether a signal or panic already stopped the channels.
pub fn fired() -> bool {
    FIRED.load(Ordering::SeqCst)
}

/// What else the signal handlers run after stopping the channels (set once: `gpio_claim`'s
/// restore of pins claimed as outputs); it says whether it did anything. Read lock-free.
static ON_SIGNAL: OnceLock<fn() -> bool> = OnceLock::new();

/// Makes the signal handlers also run `hook` (async-signal-safe, like `stop_all`); the first
/// hook set stays.
pub(super) fn on_signal(hook: fn() -> bool) {
    let _ = ON_SIGNAL.set(hook);
}

/// What the signal handlers do: stop every registered channel, then run the hook (pins claimed
/// as outputs get their previous function back). Async-signal-safe.
fn emergency() {
    stop_all();
    if ON_SIGNAL.get().is_some_and(|hook| hook()) {
        FIRED.store(true, Ordering::SeqCst);
    }
}

/// Stops every registered channel. Async-signal-safe: atomics and volatile accesses only.
pub fn stop_all() {
    for c in &CHANNELS {
        let addr = c.load(Ordering::SeqCst);
        if addr != 0 {
            FIRED.store(true, Ordering::SeqCst);
            channel::stop(&RawRegs(addr));
        }
    }
}

/// A channel's registers by address, for use where no `Mapping` can be reached.
struct RawRegs(usize);

impl ChannelRegs for RawRegs {
    fn read32(&self, off: u64) -> u32 {
        // SAFETY: the address was registered from a live Mapping of at least CHANNEL_REGS_LEN
        // bytes, which stays mapped until its guard unregisters it; off < CHANNEL_REGS_LEN.
        unsafe { std::ptr::read_volatile((self.0 + off as usize) as *const u32) }
    }

    fn write32(&self, off: u64, v: u32) {
        // SAFETY: as in read32.
        unsafe { std::ptr::write_volatile((self.0 + off as usize) as *mut u32, v) }
    }
}

/// Signals that mean the process is crashing.
const CRASH_SIGNALS: [libc::c_int; 5] = [
    libc::SIGBUS,
    libc::SIGSEGV,
    libc::SIGABRT,
    libc::SIGILL,
    libc::SIGFPE,
];

/// The actions the crash signals had before ours (Rust's stack-overflow handler for SIGSEGV
/// and SIGBUS, the default for the rest), in `CRASH_SIGNALS` order. Set once, before the
/// handlers are installed; read (lock-free) inside them.
static PREVIOUS: OnceLock<[libc::sigaction; 5]> = OnceLock::new();

/// The crash handler: stops the channels with register writes only, then lets the signal's
/// previous action run; should that return (a handler that declines, or a signal sent by
/// `kill` that no faulting instruction repeats), the default action ends the process.
extern "C" fn on_crash(sig: libc::c_int) {
    emergency();
    let previous = PREVIOUS
        .get()
        .and_then(|p| CRASH_SIGNALS.iter().position(|&s| s == sig).map(|i| p[i]));
    // SAFETY: sigaction, signal and raise are async-signal-safe (POSIX); the previous action
    // was read by sigaction itself, so it is a valid one to reinstall.
    unsafe {
        if let Some(prev) = previous {
            libc::sigaction(sig, &prev, std::ptr::null_mut());
            libc::raise(sig);
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Installs `on_crash` for the crash signals, remembering their previous actions.
fn install_crash_handlers() -> Result<(), HwError> {
    // SAFETY: all-zero is a valid sigaction (SIG_DFL, empty mask, no flags).
    let mut previous: [libc::sigaction; 5] = unsafe { std::mem::zeroed() };
    for (i, &sig) in CRASH_SIGNALS.iter().enumerate() {
        // SAFETY: reading the current action into our own buffer.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut previous[i]) } != 0 {
            return Err(HwError::Device(format!(
                "cannot read the signal {sig} action: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    let _ = PREVIOUS.set(previous);
    for &sig in &CRASH_SIGNALS {
        // SAFETY: on_crash only does atomics, volatile MMIO and async-signal-safe calls.
        // SA_NODEFER lets it re-raise the signal at once; SA_ONSTACK keeps it working on a
        // thread whose stack overflowed (Rust gives every thread an alternate stack).
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_crash as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(HwError::Device(format!(
                "cannot install signal {sig} handler: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

/// Signal handlers and panic hook, installed once.
pub(super) fn install() -> Result<(), HwError> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        if let Err(e) = install_crash_handlers() {
            result = Err(e);
        }
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: emergency is async-signal-safe (atomics and volatile MMIO only). The
            // program's own SIGINT/SIGTERM handling still runs after it and shuts down cleanly.
            if let Err(e) = unsafe { signal_hook::low_level::register(sig, emergency) } {
                result = Err(HwError::Device(format!(
                    "cannot install signal {sig} handler: {e}"
                )));
            }
        }
        for sig in [libc::SIGHUP, libc::SIGQUIT] {
            // SAFETY: as above; nobody else handles these, so after stopping the channels the
            // default action (terminate, or core dump) is carried out as before.
            let r = unsafe {
                signal_hook::low_level::register(sig, move || {
                    emergency();
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                })
            };
            if let Err(e) = r {
                result = Err(HwError::Device(format!(
                    "cannot install signal {sig} handler: {e}"
                )));
            }
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            stop_all();
            previous(info);
        }));
    });
    result
}

#[cfg(test)]
#[path = "teardown_tests.rs"]
mod tests;
