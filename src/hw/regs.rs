//! The BCM283x/BCM2711 register map the sampler uses, named as in the BCM2835 ARM Peripherals
//! datasheet. Offsets are from the peripheral base unless a block says otherwise.
//!
//! Both the agent and the emulator read these names, so the values are also pinned by tests
//! against the literal figures in docs/hardware.md: a typo here cannot hide behind the emulator.

/// Bus address at which the DMA engine sees the peripheral block (all SoCs).
pub const PERIPH_BUS_BASE: u32 = 0x7E00_0000;

/// Bus address the DMA engine sees for the peripheral at physical `phys`.
pub const fn periph_bus(phys: u64) -> u32 {
    ((phys & 0x00FF_FFFF) as u32) | PERIPH_BUS_BASE
}

/// Physical address of a peripheral bus address, given the SoC's peripheral base.
pub const fn periph_phys(bus: u32, periph_base: u64) -> u64 {
    periph_base + (bus & 0x00FF_FFFF) as u64
}

/// Extracts `width` bits at `shift` from `reg`.
pub const fn field(reg: u32, shift: u32, width: u32) -> u32 {
    (reg >> shift) & ((1 << width) - 1)
}

/// Places `value` in `width` bits at `shift`, dropping bits that do not fit.
pub const fn place(value: u32, shift: u32, width: u32) -> u32 {
    (value & ((1 << width) - 1)) << shift
}

/// System timer: a free-running 1 MHz counter.
pub mod st {
    /// Offset of the system timer block.
    pub const BASE: u64 = 0x3000;
    /// Counter, low 32 bits.
    pub const CLO: u64 = 0x04;
    /// Counter, high 32 bits.
    pub const CHI: u64 = 0x08;
    /// Counter frequency in Hz.
    pub const HZ: u64 = 1_000_000;
}

/// GPIO: the level registers the sampler reads.
pub mod gpio {
    /// Offset of the GPIO block.
    pub const BASE: u64 = 0x20_0000;
    /// Function select, GPIO 0–9 (3 bits per pin; GPFSELn for GPIO 10n–10n+9 follows at +4n).
    pub const GPFSEL0: u64 = 0x00;
    /// Output set, GPIO 0–31.
    pub const GPSET0: u64 = 0x1C;
    /// Output set, GPIO 32–57.
    pub const GPSET1: u64 = 0x20;
    /// Output clear, GPIO 0–31.
    pub const GPCLR0: u64 = 0x28;
    /// Output clear, GPIO 32–57.
    pub const GPCLR1: u64 = 0x2C;
    /// Pin levels, GPIO 0–31.
    pub const GPLEV0: u64 = 0x34;
    /// Pin levels, GPIO 32–53.
    pub const GPLEV1: u64 = 0x38;
}

/// ARM mailbox 0, through which the VideoCore allocates DMA memory (the emulated board serves
/// property calls here; on a Pi the kernel does, behind `/dev/vcio`).
pub mod mbox {
    /// Offset of mailbox 0.
    pub const BASE: u64 = 0xB880;
    /// Read register: the answered buffer address | channel.
    pub const READ: u64 = 0x00;
    /// Status register.
    pub const STATUS: u64 = 0x18;
    /// Write register: a buffer address | channel.
    pub const WRITE: u64 = 0x20;
    /// The property-tags channel (ARM → VideoCore).
    pub const CHANNEL_PROPERTY: u32 = 8;
    /// Property buffer: request code.
    pub const REQUEST: u32 = 0;
    /// Property buffer: the firmware answered successfully.
    pub const RESPONSE_OK: u32 = 0x8000_0000;
    /// Property buffer: the firmware could not parse the request.
    pub const RESPONSE_ERROR: u32 = 0x8000_0001;
    /// Tag bit set on a tag the firmware answered.
    pub const TAG_RESPONSE: u32 = 0x8000_0000;
    /// Allocate memory: size, alignment, flags → handle.
    pub const TAG_ALLOCATE: u32 = 0x3000C;
    /// Lock memory: handle → bus address.
    pub const TAG_LOCK: u32 = 0x3000D;
    /// Unlock memory: handle → status.
    pub const TAG_UNLOCK: u32 = 0x3000E;
    /// Release memory: handle → status.
    pub const TAG_RELEASE: u32 = 0x3000F;
    /// Allocation flag: uncached, L1-nonallocating ("direct") alias.
    pub const MEM_FLAG_DIRECT: u32 = 1 << 2;
    /// Allocation flag: coherent alias (BCM2835 needs it on top of DIRECT).
    pub const MEM_FLAG_COHERENT: u32 = 2 << 2;
}

/// DRAM as the DMA engine sees it.
pub mod mem {
    /// Bus alias of DRAM through the L2 cache, coherent with the ARM (BCM2835 DMA memory).
    pub const BUS_ALIAS_L2_COHERENT: u32 = 0x4000_0000;
    /// Bus alias of DRAM bypassing the caches (BCM2836/7 and BCM2711 DMA memory).
    pub const BUS_ALIAS_DIRECT: u32 = 0xC000_0000;
    /// The two alias bits of a DRAM bus address.
    pub const BUS_ALIAS_MASK: u32 = 0xC000_0000;
    /// Granule of mailbox allocations and of mappings.
    pub const PAGE_BYTES: usize = 4096;
}

/// DMA controller: channels 0–14 at `BASE + n * CHANNEL_STRIDE`, channel 15 elsewhere.
pub mod dma {
    /// Offset of channel 0.
    pub const BASE: u64 = 0x7000;
    /// Distance between two channels' register blocks.
    pub const CHANNEL_STRIDE: u64 = 0x100;
    /// Offset of channel 15, which sits apart from the others.
    pub const CHANNEL15: u64 = 0xE0_5000;
    /// Global enable register (one bit per channel), from `BASE`.
    pub const ENABLE: u64 = 0xFF0;
    /// Highest channel number.
    pub const MAX_CHANNEL: u8 = 15;
    /// First "lite" channel (7–14 are lite: no 2D mode, TXFR_LEN ≤ 65535).
    pub const FIRST_LITE: u8 = 7;
    /// Last "lite" channel.
    pub const LAST_LITE: u8 = 14;
    /// Most bytes one control block of a lite channel may move.
    pub const LITE_MAX_TXFR: u32 = 65_535;

    /// Offset of channel `n`'s registers from the peripheral base.
    pub const fn channel_offset(n: u8) -> u64 {
        if n == 15 {
            CHANNEL15
        } else {
            BASE + n as u64 * CHANNEL_STRIDE
        }
    }

    /// Whether channel `n` is a lite channel.
    pub const fn is_lite(n: u8) -> bool {
        n >= FIRST_LITE && n <= LAST_LITE
    }

    /// Control and status.
    pub const CS: u64 = 0x00;
    /// Bus address of the control block being executed (0: none).
    pub const CONBLK_AD: u64 = 0x04;
    /// The loaded control block's transfer information.
    pub const TI: u64 = 0x08;
    /// The loaded control block's source address.
    pub const SOURCE_AD: u64 = 0x0C;
    /// The loaded control block's destination address.
    pub const DEST_AD: u64 = 0x10;
    /// The loaded control block's transfer length.
    pub const TXFR_LEN: u64 = 0x14;
    /// The loaded control block's 2D stride.
    pub const STRIDE: u64 = 0x18;
    /// The loaded control block's next control block address.
    pub const NEXTCONBK: u64 = 0x1C;
    /// Debug: error bits (write 1 to clear) and the LITE flag.
    pub const DEBUG: u64 = 0x20;
    /// Bytes of one channel's register block that the sampler maps.
    pub const CHANNEL_REGS_LEN: usize = 0x24;

    /// CS: the channel is running.
    pub const CS_ACTIVE: u32 = 1 << 0;
    /// CS: the current transfer ended (write 1 to clear).
    pub const CS_END: u32 = 1 << 1;
    /// CS: interrupt status (write 1 to clear).
    pub const CS_INT: u32 = 1 << 2;
    /// CS: the DREQ the channel waits on is asserted.
    pub const CS_DREQ: u32 = 1 << 3;
    /// CS: the channel is paused.
    pub const CS_PAUSED: u32 = 1 << 4;
    /// CS: paused by DREQ.
    pub const CS_DREQ_STOPS_DMA: u32 = 1 << 5;
    /// CS: waiting for outstanding writes.
    pub const CS_WAITING_FOR_OUTSTANDING_WRITES: u32 = 1 << 6;
    /// CS: an error is flagged in DEBUG.
    pub const CS_ERROR: u32 = 1 << 8;
    /// CS: AXI priority, bits 16–19.
    pub const CS_PRIORITY_SHIFT: u32 = 16;
    /// CS: AXI panic priority, bits 20–23.
    pub const CS_PANIC_PRIORITY_SHIFT: u32 = 20;
    /// Width of the two priority fields.
    pub const CS_PRIORITY_WIDTH: u32 = 4;
    /// CS: wait for outstanding writes before the next control block.
    pub const CS_WAIT_FOR_OUTSTANDING_WRITES: u32 = 1 << 28;
    /// CS: do not stop when the debugger halts.
    pub const CS_DISDEBUG: u32 = 1 << 29;
    /// CS: abort the current control block and load the next (self-clearing).
    pub const CS_ABORT: u32 = 1 << 30;
    /// CS: reset the channel (self-clearing).
    pub const CS_RESET: u32 = 1 << 31;

    /// TI: interrupt at the end of this control block.
    pub const TI_INTEN: u32 = 1 << 0;
    /// TI: 2D mode (full channels only).
    pub const TI_TDMODE: u32 = 1 << 1;
    /// TI: wait for the write response.
    pub const TI_WAIT_RESP: u32 = 1 << 3;
    /// TI: increment the destination address.
    pub const TI_DEST_INC: u32 = 1 << 4;
    /// TI: 128-bit destination writes.
    pub const TI_DEST_WIDTH: u32 = 1 << 5;
    /// TI: gate writes on the peripheral's DREQ.
    pub const TI_DEST_DREQ: u32 = 1 << 6;
    /// TI: do not write.
    pub const TI_DEST_IGNORE: u32 = 1 << 7;
    /// TI: increment the source address.
    pub const TI_SRC_INC: u32 = 1 << 8;
    /// TI: 128-bit source reads.
    pub const TI_SRC_WIDTH: u32 = 1 << 9;
    /// TI: gate reads on the peripheral's DREQ.
    pub const TI_SRC_DREQ: u32 = 1 << 10;
    /// TI: do not read.
    pub const TI_SRC_IGNORE: u32 = 1 << 11;
    /// TI: burst length, bits 12–15.
    pub const TI_BURST_LENGTH_SHIFT: u32 = 12;
    /// TI: peripheral whose DREQ gates the transfer, bits 16–20.
    pub const TI_PERMAP_SHIFT: u32 = 16;
    /// Width of the PERMAP field.
    pub const TI_PERMAP_WIDTH: u32 = 5;
    /// TI: wait cycles after each read/write, bits 21–25.
    pub const TI_WAITS_SHIFT: u32 = 21;
    /// TI: no wide bursts.
    pub const TI_NO_WIDE_BURSTS: u32 = 1 << 26;
    /// PERMAP: always-on DREQ (no pacing).
    pub const PERMAP_NONE: u32 = 0;
    /// PERMAP: the PCM transmit FIFO.
    pub const PERMAP_PCM_TX: u32 = 2;
    /// PERMAP: the PWM FIFO.
    pub const PERMAP_PWM: u32 = 5;

    /// TI field value selecting the DREQ of peripheral `permap`.
    pub const fn ti_permap(permap: u32) -> u32 {
        super::place(permap, TI_PERMAP_SHIFT, TI_PERMAP_WIDTH)
    }

    /// TXFR_LEN of a 2D transfer: `y` rows of `x` bytes (rows counted from 0, as the hardware does).
    pub const fn txfr_len_2d(x: u32, y: u32) -> u32 {
        (x & 0xFFFF) | (((y - 1) & 0x3FFF) << 16)
    }

    /// DEBUG: a control block was loaded without its LAST flag (write 1 to clear).
    pub const DEBUG_READ_LAST_NOT_SET_ERROR: u32 = 1 << 0;
    /// DEBUG: FIFO error (write 1 to clear).
    pub const DEBUG_FIFO_ERROR: u32 = 1 << 1;
    /// DEBUG: AXI read error (write 1 to clear).
    pub const DEBUG_READ_ERROR: u32 = 1 << 2;
    /// DEBUG: all error bits together.
    pub const DEBUG_ERRORS: u32 =
        DEBUG_READ_LAST_NOT_SET_ERROR | DEBUG_FIFO_ERROR | DEBUG_READ_ERROR;
    /// DEBUG: this is a lite channel.
    pub const DEBUG_LITE: u32 = 1 << 28;

    /// Bytes in one control block.
    pub const CB_BYTES: usize = 32;
    /// Alignment the engine requires of a control block.
    pub const CB_ALIGN: usize = 32;
    /// Word indices inside a control block.
    pub const CB_TI: usize = 0;
    /// Source bus address.
    pub const CB_SOURCE_AD: usize = 1;
    /// Destination bus address.
    pub const CB_DEST_AD: usize = 2;
    /// Bytes to move (or the 2D shape).
    pub const CB_TXFR_LEN: usize = 3;
    /// 2D strides: source in bits 0–15, destination in 16–31.
    pub const CB_STRIDE: usize = 4;
    /// Bus address of the next control block; 0 ends the chain.
    pub const CB_NEXTCONBK: usize = 5;
}

/// Clock manager: the PWM and PCM clocks the pacing FIFOs drain at.
pub mod cm {
    /// Offset of the clock manager.
    pub const BASE: u64 = 0x10_1000;
    /// PCM clock control.
    pub const PCMCTL: u64 = 0x98;
    /// PCM clock divisor.
    pub const PCMDIV: u64 = 0x9C;
    /// PWM clock control.
    pub const PWMCTL: u64 = 0xA0;
    /// PWM clock divisor.
    pub const PWMDIV: u64 = 0xA4;
    /// Every write must carry this in bits 24–31 or the hardware ignores it.
    pub const PASSWD: u32 = 0x5A << 24;
    /// The password byte's mask.
    pub const PASSWD_MASK: u32 = 0xFF << 24;
    /// CTL: clock source, bits 0–3.
    pub const CTL_SRC_MASK: u32 = 0xF;
    /// CTL source: PLLD.
    pub const SRC_PLLD: u32 = 6;
    /// CTL source: the oscillator.
    pub const SRC_OSC: u32 = 1;
    /// CTL: enable the generator.
    pub const CTL_ENAB: u32 = 1 << 4;
    /// CTL: stop and reset the generator at once (glitches).
    pub const CTL_KILL: u32 = 1 << 5;
    /// CTL: the generator is running.
    pub const CTL_BUSY: u32 = 1 << 7;
    /// CTL: MASH filter, bits 9–10 (0 = integer division).
    pub const CTL_MASH_SHIFT: u32 = 9;
    /// DIV: integer part of the divisor, bits 12–23.
    pub const DIV_DIVI_SHIFT: u32 = 12;
    /// Width of the integer divisor.
    pub const DIV_DIVI_WIDTH: u32 = 12;
    /// DIV: fractional part of the divisor, bits 0–11.
    pub const DIV_DIVF_WIDTH: u32 = 12;
    /// Smallest integer divisor the generator accepts with MASH 0.
    pub const DIVI_MIN: u32 = 2;
    /// Largest integer divisor (12 bits).
    pub const DIVI_MAX: u32 = 4095;
}

/// PWM: channel 1's FIFO paces the DMA through DREQ.
pub mod pwm {
    /// Offset of the PWM block.
    pub const BASE: u64 = 0x20_C000;
    /// Control.
    pub const CTL: u64 = 0x00;
    /// Status.
    pub const STA: u64 = 0x04;
    /// DMA configuration.
    pub const DMAC: u64 = 0x08;
    /// Channel 1 range: bits per frame in serialiser mode.
    pub const RNG1: u64 = 0x10;
    /// Channel 1 data.
    pub const DAT1: u64 = 0x14;
    /// The FIFO the DMA writes to.
    pub const FIF1: u64 = 0x18;
    /// CTL: channel 1 enable.
    pub const CTL_PWEN1: u32 = 1 << 0;
    /// CTL: channel 1 serialiser mode.
    pub const CTL_MODE1: u32 = 1 << 1;
    /// CTL: channel 1 takes its data from the FIFO.
    pub const CTL_USEF1: u32 = 1 << 5;
    /// CTL: clear the FIFO (self-clearing).
    pub const CTL_CLRF1: u32 = 1 << 6;
    /// STA: FIFO full.
    pub const STA_FULL1: u32 = 1 << 0;
    /// STA: FIFO empty.
    pub const STA_EMPT1: u32 = 1 << 1;
    /// STA: channel 1 transmitting.
    pub const STA_STA1: u32 = 1 << 9;
    /// DMAC: DREQ threshold, bits 0–7.
    pub const DMAC_DREQ_SHIFT: u32 = 0;
    /// DMAC: PANIC threshold, bits 8–15.
    pub const DMAC_PANIC_SHIFT: u32 = 8;
    /// Width of the DMAC thresholds.
    pub const DMAC_THRESHOLD_WIDTH: u32 = 8;
    /// DMAC: enable DMA requests.
    pub const DMAC_ENAB: u32 = 1 << 31;
    /// Words the FIFO holds.
    pub const FIFO_WORDS: u32 = 16;
}

/// PCM: the transmit FIFO paces the DMA through DREQ.
pub mod pcm {
    /// Offset of the PCM block.
    pub const BASE: u64 = 0x20_3000;
    /// Control and status.
    pub const CS_A: u64 = 0x00;
    /// The FIFO the DMA writes to.
    pub const FIFO_A: u64 = 0x04;
    /// Frame mode.
    pub const MODE_A: u64 = 0x08;
    /// Receive configuration.
    pub const RXC_A: u64 = 0x0C;
    /// Transmit configuration.
    pub const TXC_A: u64 = 0x10;
    /// DMA request levels.
    pub const DREQ_A: u64 = 0x14;
    /// CS: enable the interface.
    pub const CS_EN: u32 = 1 << 0;
    /// CS: enable reception.
    pub const CS_RXON: u32 = 1 << 1;
    /// CS: enable transmission.
    pub const CS_TXON: u32 = 1 << 2;
    /// CS: clear the transmit FIFO (self-clearing).
    pub const CS_TXCLR: u32 = 1 << 3;
    /// CS: clear the receive FIFO (self-clearing).
    pub const CS_RXCLR: u32 = 1 << 4;
    /// CS: raise DMA requests.
    pub const CS_DMAEN: u32 = 1 << 9;
    /// CS: transmit FIFO underrun (write 1 to clear).
    pub const CS_TXERR: u32 = 1 << 15;
    /// CS: the transmit FIFO can take a word.
    pub const CS_TXD: u32 = 1 << 19;
    /// CS: the transmit FIFO is empty.
    pub const CS_TXE: u32 = 1 << 21;
    /// CS: PCM clock sync helper.
    pub const CS_SYNC: u32 = 1 << 24;
    /// CS: RAM standby off (must be set before use).
    pub const CS_STBY: u32 = 1 << 25;
    /// MODE: frame sync length, bits 0–9.
    pub const MODE_FSLEN_SHIFT: u32 = 0;
    /// MODE: frame length minus one, bits 10–19.
    pub const MODE_FLEN_SHIFT: u32 = 10;
    /// Width of FLEN and FSLEN.
    pub const MODE_LEN_WIDTH: u32 = 10;
    /// TXC: channel 1 width (bits − 8), bits 16–19.
    pub const TXC_CH1WID_SHIFT: u32 = 16;
    /// Width of the CH1WID field.
    pub const TXC_CH1WID_WIDTH: u32 = 4;
    /// Narrowest channel (CH1WID = 0).
    pub const TXC_MIN_WIDTH_BITS: u32 = 8;
    /// Bits CH1WEX adds to the channel width.
    pub const TXC_WEX_BITS: u32 = 16;
    /// Widest channel: one whole FIFO word.
    pub const TXC_MAX_WIDTH_BITS: u32 = 32;
    /// TXC: channel 1 enable.
    pub const TXC_CH1EN: u32 = 1 << 30;
    /// TXC: channel 1 width extension (+16 bits).
    pub const TXC_CH1WEX: u32 = 1 << 31;
    /// DREQ_A: TX request level, bits 8–14.
    pub const DREQ_TX_SHIFT: u32 = 8;
    /// Width of the DREQ_A levels.
    pub const DREQ_LEVEL_WIDTH: u32 = 7;
    /// DREQ_A: TX panic level, bits 24–30.
    pub const DREQ_TX_PANIC_SHIFT: u32 = 24;
    /// Words the transmit FIFO holds.
    pub const FIFO_WORDS: u32 = 64;
}

#[cfg(test)]
#[path = "regs_tests.rs"]
mod tests;
