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
//! equivalents (`mcr p15, 0, rX, c7, c10, 4` = DSB, `…, 5` = DMB; ARM1176JZF-S TRM §3.2.22).
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

#[cfg(any(
    target_arch = "aarch64",
    all(target_arch = "arm", target_feature = "v7")
))]
fn dsb_st() {
    // SAFETY: a barrier instruction: no memory is accessed, no register or flag changed.
    unsafe { std::arch::asm!("dsb st", options(nostack, preserves_flags)) }
}

#[cfg(any(
    target_arch = "aarch64",
    all(target_arch = "arm", target_feature = "v7")
))]
fn dmb_osh() {
    // SAFETY: as in dsb_st.
    unsafe { std::arch::asm!("dmb osh", options(nostack, preserves_flags)) }
}

#[cfg(all(target_arch = "arm", not(target_feature = "v7")))]
fn dsb_st() {
    // SAFETY: the ARMv6 CP15 data synchronization barrier; it reads the (zero) register only.
    unsafe {
        std::arch::asm!("mcr p15, 0, {0}, c7, c10, 4", in(reg) 0u32, options(nostack, preserves_flags))
    }
}

#[cfg(all(target_arch = "arm", not(target_feature = "v7")))]
fn dmb_osh() {
    // SAFETY: the ARMv6 CP15 data memory barrier; it reads the (zero) register only.
    unsafe {
        std::arch::asm!("mcr p15, 0, {0}, c7, c10, 5", in(reg) 0u32, options(nostack, preserves_flags))
    }
}

#[cfg(not(any(target_arch = "aarch64", target_arch = "arm")))]
fn dsb_st() {}

#[cfg(not(any(target_arch = "aarch64", target_arch = "arm")))]
fn dmb_osh() {}
