//! How the CPU may touch peripheral registers and DMA memory: aligned 32-bit volatile loads and
//! stores, one word at a time, and nothing else.
//!
//! Both are mapped from `/dev/mem` with `O_SYNC`, which arm64 maps as Device memory
//! (`pgprot_noncached` = Device-nGnRnE). There an unaligned access, or a wide one such as the
//! 16-byte `ldr q` that glibc ≥ 2.37's arm64 `memcpy` issues at `src` and `src_end - 16`, raises
//! SIGBUS (raspberrypi/utils#27: `vclog -m` died on a Pi 4 after that glibc update). A block
//! of `block_samples × words` level words starts 16-byte aligned only by luck, so no `memcpy`,
//! `copy_nonoverlapping` or slice copy may ever read this memory: [`read_words`] is the bulk copy.
//!
//! Everything that reads or writes such memory goes through [`Words`], so a test can substitute
//! a recorder (`hw::recorder`) and check every access the code makes.

use super::barrier::Barrier;

/// Memory reachable only by aligned 32-bit volatile accesses (registers, DMA memory).
pub trait Words {
    /// Volatile 32-bit load of the word at byte `offset` (a multiple of 4).
    fn read32(&self, offset: u64) -> u32;
    /// Volatile 32-bit store of the word at byte `offset` (a multiple of 4).
    fn write32(&self, offset: u64, value: u32);
    /// Issues `barrier` (a recorder logs it instead, so tests can check where barriers sit).
    fn barrier(&self, barrier: Barrier) {
        barrier.issue();
    }
}

/// Copies `dst.len()` words starting at byte `offset` with one aligned 32-bit load each.
///
/// Slower per byte than a wide copy on uncached memory, but the only copy that cannot fault on
/// Device memory; the consumer reads each block once, so the cost is one load per word.
pub fn read_words(src: &impl Words, offset: u64, dst: &mut [u32]) {
    for (i, w) in dst.iter_mut().enumerate() {
        *w = src.read32(offset + 4 * i as u64);
    }
}

/// Stores `src` word by word from byte `offset` (control-block images).
pub fn write_words(dst: &impl Words, offset: u64, src: &[u32]) {
    for (i, &w) in src.iter().enumerate() {
        dst.write32(offset + 4 * i as u64, w);
    }
}
