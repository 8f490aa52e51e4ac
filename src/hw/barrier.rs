//! Memory barriers between the CPU and the DMA engine.
//!
//! `std::sync::atomic::fence(SeqCst)` is `dmb ish` on aarch64: it orders accesses within the
//! inner-shareable domain (the CPU cores) only, not against the DMA engine, which sits in the
//! outer-shareable domain and, for Device mappings, beyond any cache. Linux orders descriptor
//! writes before the doorbell with `dma_wmb()`/`wmb()` (`arch/arm64/include/asm/barrier.h`:
//! `dmb(oshst)`/`dsb(st)`; the bcm2835 driver's `bcm2835_dma_start_desc` relies on the `wmb()`
//! inside `writel`) and reads DMA-written data after a status read with `dma_rmb()`
//! (`dmb(oshld)`). Here:
//!
//! * [`Barrier::BeforeStart`] (`dsb st`): every store so far (the control blocks) has completed
//!   before the register write that starts the channel; a `dsb` also waits for stores to
//!   Device memory to be acknowledged, which `dmb` does not.
//! * [`Barrier::DmaRead`] (`dmb osh`): loads of the engine's position (CONBLK_AD, a block's tick)
//!   are ordered against the loads of the block they say is complete, both ways round.
//!
//! On 32-bit ARM the same instructions exist from ARMv7 on; ARMv6 (Pi 1, Zero) has the CP15
//! equivalents (`mcr p15, 0, rX, c7, c10, 4` = DSB, `…, 5` = DMB; ARM1176JZF-S TRM §3.2.22);
//! which one runs is decided once from the kernel's AT_PLATFORM.
//! Elsewhere (the emulated board on a PC) the engine is another thread sharing a file mapping,
//! which a compiler fence plus the volatile accesses already order on x86's strong model.

use std::sync::atomic::{compiler_fence, Ordering};

/// Which barrier a call site needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barrier {
    /// `dsb st`: all earlier stores complete before the store that starts the channel.
    BeforeStart,
    /// `dmb osh`: loads of the engine's position are ordered against loads of its data.
    DmaRead,
}

impl Barrier {
    /// Executes the barrier.
    pub fn issue(self) {
        compiler_fence(Ordering::SeqCst);
        match self {
            Barrier::BeforeStart => dsb_st(),
            Barrier::DmaRead => dmb_osh(),
        }
        compiler_fence(Ordering::SeqCst);
    }
}

#[cfg(target_arch = "aarch64")]
fn dsb_st() {
    // SAFETY: a barrier instruction: no memory is accessed, no register or flag changed.
    unsafe { std::arch::asm!("dsb st", options(nostack, preserves_flags)) }
}

#[cfg(target_arch = "aarch64")]
fn dmb_osh() {
    // SAFETY: as in dsb_st.
    unsafe { std::arch::asm!("dmb osh", options(nostack, preserves_flags)) }
}

/// 32-bit ARM: `dsb`/`dmb` exist from ARMv7 on, where the CP15 forms are deprecated (and trap
/// under a 64-bit kernel, which clears SCTLR_EL1.CP15BEN); ARMv6 has only the CP15 forms. Stable
/// Rust has no cfg telling v6 from v7, so the kernel's AT_PLATFORM ("v6l", "v7l", "v8l")
/// decides once; the v7 instructions are given as A32 encodings (DSB ST = 0xF57FF04E,
/// DMB OSH = 0xF57FF053, ARM ARM A8.8.43/A8.8.44) so an ARMv6 baseline still assembles them.
/// A32 is what the Pi's Rust targets (`arm-` and `armv7-unknown-linux-gnueabihf`) generate; a
/// Thumb target (`thumbv7neon-…`) would need the T32 encodings instead and is not supported.
#[cfg(target_arch = "arm")]
fn armv6() -> bool {
    static V6: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *V6.get_or_init(|| {
        // SAFETY: getauxval has no preconditions; AT_PLATFORM, when present, points to a
        // NUL-terminated string the kernel placed on the initial stack for the process's life.
        let p = unsafe { libc::getauxval(libc::AT_PLATFORM) } as *const libc::c_char;
        // SAFETY: non-null AT_PLATFORM is a valid C string (see above).
        !p.is_null()
            && unsafe { std::ffi::CStr::from_ptr(p) }
                .to_bytes()
                .starts_with(b"v6")
    })
}

#[cfg(target_arch = "arm")]
fn dsb_st() {
    if armv6() {
        // SAFETY: CP15 c7,c10,4: ARMv6 data synchronization barrier; reads a zero register only.
        unsafe {
            std::arch::asm!("mcr p15, 0, {0}, c7, c10, 4", in(reg) 0u32, options(nostack, preserves_flags))
        }
    } else {
        // SAFETY: DSB ST (A32 encoding): a barrier, no memory or register touched.
        unsafe { std::arch::asm!(".inst 0xf57ff04e", options(nostack, preserves_flags)) }
    }
}

#[cfg(target_arch = "arm")]
fn dmb_osh() {
    if armv6() {
        // SAFETY: CP15 c7,c10,5: ARMv6 data memory barrier; reads a zero register only.
        unsafe {
            std::arch::asm!("mcr p15, 0, {0}, c7, c10, 5", in(reg) 0u32, options(nostack, preserves_flags))
        }
    } else {
        // SAFETY: DMB OSH (A32 encoding): a barrier, no memory or register touched.
        unsafe { std::arch::asm!(".inst 0xf57ff053", options(nostack, preserves_flags)) }
    }
}

#[cfg(not(any(target_arch = "aarch64", target_arch = "arm")))]
fn dsb_st() {}

#[cfg(not(any(target_arch = "aarch64", target_arch = "arm")))]
fn dmb_osh() {}
