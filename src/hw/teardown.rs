//! Teardown that cannot be skipped: a running DMA chain keeps writing into its memory after the
//! process that set it up has gone. If that memory is released (and reused), the engine corrupts
//! whatever lives there next. So every running channel is registered here, and stopped
//!
//! * when its [`ChannelGuard`] drops (normal exit, error paths, unwinding), before the memory,
//! * from a signal handler on SIGINT, SIGTERM, SIGHUP and SIGQUIT,
//! * from the panic hook, before the panic unwinds or aborts.
//!
//! Stopping twice is harmless, so every path simply stops everything registered.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

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

/// Signal handlers and panic hook, installed once.
fn install() -> Result<(), HwError> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: stop_all is async-signal-safe (atomics and volatile MMIO only). The
            // program's own SIGINT/SIGTERM handling still runs after it and shuts down cleanly.
            if let Err(e) = unsafe { signal_hook::low_level::register(sig, stop_all) } {
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
                    stop_all();
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
mod tests {
    use super::*;
    use crate::hw::mmio::PhysMem;
    use crate::hw::regs::dma;

    #[test]
    fn emergency_stop_and_drop_both_stop_the_channel() {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        f.as_file().set_len(4096).expect("size");
        let mem = PhysMem::open(f.path()).expect("open");
        let view = mem.map(0, dma::CHANNEL_REGS_LEN).expect("map");
        let guard =
            ChannelGuard::new(mem.map(0, dma::CHANNEL_REGS_LEN).expect("map")).expect("register");
        channel::start(guard.regs(), 0xC010_0000);
        assert_eq!(view.read32(dma::CONBLK_AD), 0xC010_0000);

        // What a signal handler or the panic hook does: the registered channel is stopped.
        stop_all();
        assert_eq!(view.read32(dma::CONBLK_AD), 0);
        assert_eq!(view.read32(dma::CS), dma::CS_RESET);
        assert!(fired());

        // Dropping the guard stops it again and frees its slot.
        channel::start(guard.regs(), 0xC010_0000);
        let addr = guard.regs().base_addr();
        drop(guard);
        assert_eq!(view.read32(dma::CONBLK_AD), 0);
        assert!(CHANNELS.iter().all(|c| c.load(Ordering::SeqCst) != addr));
    }
}
