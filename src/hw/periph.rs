//! The peripheral blocks the sampler touches, each mapped once from the memory file.

use super::mmio::{Mapping, PhysMem};
use super::regs::{cm, dma, gpio, pcm, pwm, st};
use super::HwError;

/// Bytes mapped per peripheral block: every register the sampler uses lies in its first page.
const BLOCK_LEN: usize = 0x100;

/// Mapped register blocks of one SoC, plus the base they were mapped from.
#[derive(Debug)]
pub struct Peripherals {
    /// Physical peripheral base of the SoC.
    pub base: u64,
    /// System timer.
    pub st: Mapping,
    /// GPIO.
    pub gpio: Mapping,
    /// Clock manager (PCM and PWM clocks).
    pub cm: Mapping,
    /// PWM.
    pub pwm: Mapping,
    /// PCM.
    pub pcm: Mapping,
}

impl Peripherals {
    /// Maps the blocks of a SoC whose peripherals start at physical `base`.
    pub fn map(mem: &PhysMem, base: u64) -> Result<Peripherals, HwError> {
        Ok(Peripherals {
            base,
            st: mem.map(base + st::BASE, BLOCK_LEN)?,
            gpio: mem.map(base + gpio::BASE, BLOCK_LEN)?,
            cm: mem.map(base + cm::BASE, BLOCK_LEN)?,
            pwm: mem.map(base + pwm::BASE, BLOCK_LEN)?,
            pcm: mem.map(base + pcm::BASE, BLOCK_LEN)?,
        })
    }

    /// Maps the registers of DMA channel `n`.
    pub fn map_dma_channel(mem: &PhysMem, base: u64, n: u8) -> Result<Mapping, HwError> {
        mem.map(base + dma::channel_offset(n), dma::CHANNEL_REGS_LEN)
    }
}
