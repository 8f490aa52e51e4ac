//! The pacing clock: PLLD divided down by the clock manager drives the PWM serialiser or the PCM
//! transmitter, whose FIFO drains one word per frame. The DMA engine's FIFO writes wait on that
//! FIFO's DREQ, so the chain takes exactly one sample per frame.
//!
//! The maths is exact integers (no MASH, no fractional divisor): a fractional divisor dithers
//! the clock, which would put jitter straight into every sample time.

use std::time::{Duration, Instant};

use super::mmio::Mapping;
use super::periph::Peripherals;
use super::regs::{cm, dma, pcm, place, pwm};
use super::HwError;
use serde::{Deserialize, Serialize};

/// Which peripheral's FIFO paces the DMA engine (one FIFO word per sample): `sampler.pacer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pacer {
    /// The PWM FIFO (PERMAP 5): keep it free of other PWM users (analogue audio).
    Pwm,
    /// The PCM FIFO (PERMAP 2): keep it free of I2S audio.
    Pcm,
}

/// Fastest pacing clock used: pigpio's 10 MHz, well inside what the PWM and PCM blocks take.
const MAX_CLOCK_HZ: u64 = 10_000_000;
/// Longest frame in clocks: PCM FLEN is 10 bits (frame = FLEN + 1); PWM is held to the same
/// limit so both pacers give the same timing for a period.
const MAX_BITS_PER_FRAME: u32 = 1 << pcm::MODE_LEN_WIDTH;
/// Longest period offered, µs (the config allows the same).
pub const MAX_PERIOD_US: u32 = 1000;
/// Microseconds per second, for the period maths.
const US_PER_S: u64 = 1_000_000;
/// FIFO level below which the pacer raises DREQ. Above 1 so the FIFO never runs dry while the
/// DMA engine is briefly late (a dry serialiser restarts on the next write, which would add the
/// engine's latency to the period); low so the unpaced burst at start-up stays short.
const DREQ_WORDS: u32 = 8;
/// FIFO level below which the pacer raises PANIC (the engine's AXI panic priority): half the
/// DREQ slack, when a late write is about to cost timing.
const PANIC_WORDS: u32 = 4;
/// How long the clock generator may take to stop.
const BUSY_TIMEOUT: Duration = Duration::from_millis(100);
/// Pause between BUSY polls and between set-up steps the blocks need time to take in.
const SETTLE: Duration = Duration::from_micros(10);
/// Frame-sync pulse length in PCM clocks (no pin is routed to PCM; any legal value works).
const PCM_FSLEN: u32 = 1;

/// How the pacing clock and FIFO are programmed for one sample period.
///
/// Achievable periods: every whole µs from 1 to 1000 on both PLLDs (500 and 750 MHz). A period
/// of `p` µs is `p · PLLD/1 MHz` PLLD cycles; `divi = PLLD/1 MHz` (500 or 750) with `p` bits
/// per frame always fits, and the fastest clock up to 10 MHz whose frame fits in 1024 bits is
/// chosen. Anything else (0, above 1000, fractions) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacingPlan {
    /// The FIFO that paces.
    pub pacer: Pacer,
    /// Integer clock divisor from PLLD.
    pub divi: u32,
    /// Pacing clocks per frame: one FIFO word drains per frame.
    pub bits_per_frame: u32,
    /// The sample period, exactly `bits_per_frame · divi / PLLD`.
    pub period_us: u32,
    /// PLLD frequency the plan divides.
    pub plld_hz: u64,
    /// FIFO level below which DREQ is raised (also: samples taken unpaced at start-up).
    pub dreq_words: u32,
    /// FIFO level below which PANIC is raised.
    pub panic_words: u32,
}

/// Plans the clock for `period_us` on a board whose PLLD runs at `plld_hz`.
pub fn plan(period_us: u32, plld_hz: u64, pacer: Pacer) -> Result<PacingPlan, HwError> {
    let bad = |reason: String| HwError::Settings {
        field: "sampler.period_us".into(),
        reason,
    };
    if !(1..=MAX_PERIOD_US).contains(&period_us) {
        return Err(bad(format!(
            "{period_us} µs cannot be paced (1-{MAX_PERIOD_US} µs, whole µs)"
        )));
    }
    if plld_hz % US_PER_S != 0 {
        return Err(bad(format!(
            "PLLD at {plld_hz} Hz is not a whole number of MHz"
        )));
    }
    let cycles = u64::from(period_us) * (plld_hz / US_PER_S);
    let fastest = plld_hz.div_ceil(MAX_CLOCK_HZ).max(u64::from(cm::DIVI_MIN));
    let shortest_frame = cycles.div_ceil(u64::from(MAX_BITS_PER_FRAME));
    let divi = (fastest.max(shortest_frame)..=u64::from(cm::DIVI_MAX))
        .find(|d| cycles % d == 0)
        .ok_or_else(|| {
            bad(format!(
                "{period_us} µs has no integer divisor of PLLD ({plld_hz} Hz) with a frame of at most {MAX_BITS_PER_FRAME} clocks"
            ))
        })?;
    Ok(PacingPlan {
        pacer,
        divi: divi as u32,
        bits_per_frame: (cycles / divi) as u32,
        period_us,
        plld_hz,
        dreq_words: DREQ_WORDS,
        panic_words: PANIC_WORDS,
    })
}

impl PacingPlan {
    /// The DMA PERMAP value of this pacer's DREQ.
    pub fn permap(&self) -> u32 {
        match self.pacer {
            Pacer::Pwm => dma::PERMAP_PWM,
            Pacer::Pcm => dma::PERMAP_PCM_TX,
        }
    }

    /// Offset of the pacer's FIFO from the peripheral base.
    pub fn fifo_offset(&self) -> u64 {
        match self.pacer {
            Pacer::Pwm => pwm::BASE + pwm::FIF1,
            Pacer::Pcm => pcm::BASE + pcm::FIFO_A,
        }
    }

    /// The pacing clock's frequency.
    pub fn clock_hz(&self) -> f64 {
        self.plld_hz as f64 / f64::from(self.divi)
    }
}

/// The clock manager's (CTL, DIV) offsets for a pacer.
fn clock_regs(pacer: Pacer) -> (u64, u64) {
    match pacer {
        Pacer::Pwm => (cm::PWMCTL, cm::PWMDIV),
        Pacer::Pcm => (cm::PCMCTL, cm::PCMDIV),
    }
}

/// Programs the clock manager and the pacer for `plan`; DMA requests are on when it returns.
pub fn program(p: &Peripherals, plan: &PacingPlan) -> Result<(), HwError> {
    stop_pacer(p, plan.pacer);
    program_clock(&p.cm, plan)?;
    match plan.pacer {
        Pacer::Pwm => program_pwm(&p.pwm, plan),
        Pacer::Pcm => program_pcm(&p.pcm, plan),
    }
    Ok(())
}

/// Disable, wait for BUSY to clear, set the divisor, select PLLD, enable: the generator
/// glitches or ignores the divisor if changed while running.
fn program_clock(cm_regs: &Mapping, plan: &PacingPlan) -> Result<(), HwError> {
    let (ctl, div) = clock_regs(plan.pacer);
    let source = cm_regs.read32(ctl) & cm::CTL_SRC_MASK;
    cm_regs.write32(ctl, cm::PASSWD | source);
    wait_not_busy(cm_regs, ctl)?;
    cm_regs.write32(
        div,
        cm::PASSWD | place(plan.divi, cm::DIV_DIVI_SHIFT, cm::DIV_DIVI_WIDTH),
    );
    std::thread::sleep(SETTLE);
    cm_regs.write32(ctl, cm::PASSWD | cm::SRC_PLLD);
    std::thread::sleep(SETTLE);
    cm_regs.write32(ctl, cm::PASSWD | cm::SRC_PLLD | cm::CTL_ENAB);
    Ok(())
}

/// Polls the generator's BUSY flag until it clears, for at most `BUSY_TIMEOUT`.
fn wait_not_busy(cm_regs: &Mapping, ctl: u64) -> Result<(), HwError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    while cm_regs.read32(ctl) & cm::CTL_BUSY != 0 {
        if Instant::now() >= deadline {
            let name = if ctl == cm::PWMCTL {
                "CM_PWMCTL"
            } else {
                "CM_PCMCTL"
            };
            return Err(HwError::Timeout {
                what: format!(
                    "{name}.BUSY to clear ({} ms) before setting the pacing divisor",
                    BUSY_TIMEOUT.as_millis()
                ),
            });
        }
        std::thread::sleep(SETTLE);
    }
    Ok(())
}

/// PWM channel 1 as a serialiser fed from the FIFO, `bits_per_frame` clocks per word.
fn program_pwm(regs: &Mapping, plan: &PacingPlan) {
    regs.write32(pwm::CTL, 0);
    std::thread::sleep(SETTLE);
    regs.write32(pwm::CTL, pwm::CTL_CLRF1);
    std::thread::sleep(SETTLE);
    regs.write32(pwm::RNG1, plan.bits_per_frame);
    regs.write32(
        pwm::DMAC,
        pwm::DMAC_ENAB
            | place(
                plan.panic_words,
                pwm::DMAC_PANIC_SHIFT,
                pwm::DMAC_THRESHOLD_WIDTH,
            )
            | place(
                plan.dreq_words,
                pwm::DMAC_DREQ_SHIFT,
                pwm::DMAC_THRESHOLD_WIDTH,
            ),
    );
    std::thread::sleep(SETTLE);
    regs.write32(pwm::CTL, pwm::CTL_USEF1 | pwm::CTL_MODE1 | pwm::CTL_PWEN1);
}

/// TXC value of a channel 1 `bits` wide at position 0 (8–32 bits; WEX carries the 16).
fn pcm_txc(bits: u32) -> u32 {
    let extra =
        bits.clamp(pcm::TXC_MIN_WIDTH_BITS, pcm::TXC_MAX_WIDTH_BITS) - pcm::TXC_MIN_WIDTH_BITS;
    let wex = if extra >= pcm::TXC_WEX_BITS {
        pcm::TXC_CH1WEX
    } else {
        0
    };
    pcm::TXC_CH1EN
        | wex
        | place(
            extra % pcm::TXC_WEX_BITS,
            pcm::TXC_CH1WID_SHIFT,
            pcm::TXC_CH1WID_WIDTH,
        )
}

/// PCM transmitter: one `bits_per_frame` frame per FIFO word, channel 1 inside the frame.
fn program_pcm(regs: &Mapping, plan: &PacingPlan) {
    let on = pcm::CS_EN | pcm::CS_STBY;
    regs.write32(pcm::CS_A, on);
    std::thread::sleep(SETTLE);
    regs.write32(
        pcm::MODE_A,
        place(
            plan.bits_per_frame - 1,
            pcm::MODE_FLEN_SHIFT,
            pcm::MODE_LEN_WIDTH,
        ) | place(PCM_FSLEN, pcm::MODE_FSLEN_SHIFT, pcm::MODE_LEN_WIDTH),
    );
    regs.write32(pcm::TXC_A, pcm_txc(plan.bits_per_frame));
    regs.write32(pcm::CS_A, on | pcm::CS_TXCLR);
    std::thread::sleep(SETTLE);
    regs.write32(
        pcm::DREQ_A,
        place(plan.dreq_words, pcm::DREQ_TX_SHIFT, pcm::DREQ_LEVEL_WIDTH)
            | place(
                plan.panic_words,
                pcm::DREQ_TX_PANIC_SHIFT,
                pcm::DREQ_LEVEL_WIDTH,
            ),
    );
    regs.write32(pcm::CS_A, on | pcm::CS_DMAEN);
    std::thread::sleep(SETTLE);
    regs.write32(pcm::CS_A, on | pcm::CS_DMAEN | pcm::CS_TXON);
}

/// DMA requests off and the pacer disabled (no wait: safe on the teardown path).
fn stop_pacer(p: &Peripherals, pacer: Pacer) {
    match pacer {
        Pacer::Pwm => {
            p.pwm.write32(pwm::DMAC, 0);
            p.pwm.write32(pwm::CTL, 0);
        }
        Pacer::Pcm => p.pcm.write32(pcm::CS_A, 0),
    }
}

/// Stops pacing: DMA requests off, the pacer disabled, its clock disabled (source kept).
pub fn stop(p: &Peripherals, pacer: Pacer) {
    stop_pacer(p, pacer);
    let (ctl, _) = clock_regs(pacer);
    let source = p.cm.read32(ctl) & cm::CTL_SRC_MASK;
    p.cm.write32(ctl, cm::PASSWD | source);
}

#[cfg(test)]
#[path = "pacing_tests.rs"]
mod tests;
