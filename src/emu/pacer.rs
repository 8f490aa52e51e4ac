//! The clock manager and the PWM/PCM FIFOs, as far as pacing needs them: the sample period the
//! emulator produces comes only from the register values the agent wrote, so wrong pacing maths
//! makes the tests fail.

use crate::hw::board::{Board, BoardKind};
use crate::hw::mmio::Mapping;
use crate::hw::regs::{cm, field, pcm, pwm};

/// Picoseconds per second.
const PS_PER_S: u128 = 1_000_000_000_000;

/// One clock generator (PWM or PCM) as the hardware keeps it: values accepted with the password.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClockGen {
    /// Accepted CTL (no password byte, no BUSY).
    ctl: u32,
    /// Accepted DIV (no password byte).
    div: u32,
}

/// What the clock manager saw in one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockWrite {
    /// Nothing changed.
    None,
    /// A write without the password was ignored (register offset).
    Ignored(u64),
    /// A new setting was accepted.
    Accepted,
}

impl ClockGen {
    /// Looks at the CTL/DIV registers at `ctl_off`/`div_off`; accepts password writes, undoes
    /// others, and shows BUSY while enabled, as the hardware reads back.
    pub fn poll(&mut self, regs: &Mapping, ctl_off: u64, div_off: u64) -> ClockWrite {
        let mut seen = ClockWrite::None;
        let shown_ctl = self.ctl | if self.enabled() { cm::CTL_BUSY } else { 0 };
        let shown_div = self.div;
        for (off, shadow, shown) in [
            (ctl_off, &mut self.ctl, shown_ctl),
            (div_off, &mut self.div, shown_div),
        ] {
            let v = regs.read32(off);
            if v == shown {
                continue;
            }
            if v & cm::PASSWD_MASK == cm::PASSWD {
                *shadow = v & !cm::PASSWD_MASK & !cm::CTL_BUSY;
                seen = ClockWrite::Accepted;
            } else {
                seen = ClockWrite::Ignored(off);
            }
        }
        let shown_ctl = self.ctl | if self.enabled() { cm::CTL_BUSY } else { 0 };
        regs.write32(ctl_off, shown_ctl);
        regs.write32(div_off, self.div);
        seen
    }

    /// Whether the generator runs.
    pub fn enabled(&self) -> bool {
        self.ctl & cm::CTL_ENAB != 0 && self.ctl & cm::CTL_KILL == 0
    }

    /// Output frequency in Hz, if running from a known source with a usable divisor.
    pub fn hz(&self, board: BoardKind) -> Option<u64> {
        let src = match self.ctl & cm::CTL_SRC_MASK {
            cm::SRC_PLLD => Board::emulated(board).plld_hz,
            cm::SRC_OSC => match board {
                BoardKind::Pi1 | BoardKind::Pi3 => 19_200_000,
                BoardKind::Pi4 => 54_000_000,
            },
            _ => return None,
        };
        let divi = field(self.div, cm::DIV_DIVI_SHIFT, cm::DIV_DIVI_WIDTH);
        (self.enabled() && divi >= 2).then(|| src / u64::from(divi))
    }
}

/// Which FIFO paces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// PWM channel 1.
    Pwm,
    /// PCM transmit.
    Pcm,
}

/// A transmit FIFO drained one word per frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fifo {
    /// Words in the FIFO.
    level: u32,
    /// When the next word leaves (ps); meaningful while `level > 0`.
    next_drain_ps: u64,
    /// Frame length in ps (0: not running).
    frame_ps: u64,
    /// DREQ is raised while the level is below this.
    threshold: u32,
    /// Capacity in words.
    depth: u32,
    /// DMA requests enabled.
    dma: bool,
}

impl Fifo {
    /// Drains the words whose frames ended by `now`.
    fn advance(&mut self, now: u64) {
        while self.level > 0 && self.frame_ps > 0 && self.next_drain_ps <= now {
            self.level -= 1;
            self.next_drain_ps += self.frame_ps;
        }
    }

    /// When a DMA write arriving at `now` can be accepted (`None`: never, pacing is off).
    pub fn accept_at(&mut self, now: u64) -> Option<u64> {
        if !self.dma || self.frame_ps == 0 {
            return None;
        }
        self.advance(now);
        if self.level < self.threshold {
            return Some(now);
        }
        Some(self.next_drain_ps)
    }

    /// Takes one word at `at` (a time `accept_at` returned).
    pub fn push(&mut self, at: u64) {
        self.advance(at);
        if self.level == 0 {
            // The serialiser picks the word up at the end of the frame that starts now.
            self.next_drain_ps = at + self.frame_ps;
        }
        self.level = (self.level + 1).min(self.depth);
    }
}

/// The pacing peripherals.
#[derive(Debug, Default)]
pub struct Pacers {
    /// PWM clock.
    pub pwm_clock: ClockGen,
    /// PCM clock.
    pub pcm_clock: ClockGen,
    /// PWM FIFO.
    pub pwm: Fifo,
    /// PCM FIFO.
    pub pcm: Fifo,
}

impl Pacers {
    /// Re-reads the PWM and PCM registers; returns ignored clock writes.
    pub fn poll(
        &mut self,
        cm_regs: &Mapping,
        pwm_regs: &Mapping,
        pcm_regs: &Mapping,
        board: BoardKind,
        now: u64,
    ) -> Vec<ClockWrite> {
        let a = self.pwm_clock.poll(cm_regs, cm::PWMCTL, cm::PWMDIV);
        let b = self.pcm_clock.poll(cm_regs, cm::PCMCTL, cm::PCMDIV);

        let ctl = pwm_regs.read32(pwm::CTL);
        if ctl & pwm::CTL_CLRF1 != 0 {
            self.pwm.level = 0;
            pwm_regs.write32(pwm::CTL, ctl & !pwm::CTL_CLRF1);
        }
        let running =
            ctl & pwm::CTL_PWEN1 != 0 && ctl & pwm::CTL_USEF1 != 0 && ctl & pwm::CTL_MODE1 != 0;
        let bits = u64::from(pwm_regs.read32(pwm::RNG1));
        let dmac = pwm_regs.read32(pwm::DMAC);
        let frame = match (running, self.pwm_clock.hz(board)) {
            (true, Some(hz)) if bits > 0 => frame_ps(bits, hz),
            _ => 0,
        };
        set(
            &mut self.pwm,
            frame,
            dmac & pwm::DMAC_ENAB != 0,
            field(dmac, pwm::DMAC_DREQ_SHIFT, 8),
            pwm::FIFO_WORDS,
            now,
        );

        let cs = pcm_regs.read32(pcm::CS_A);
        if cs & pcm::CS_TXCLR != 0 {
            self.pcm.level = 0;
            pcm_regs.write32(pcm::CS_A, cs & !pcm::CS_TXCLR);
        }
        let running = cs & pcm::CS_EN != 0 && cs & pcm::CS_TXON != 0;
        let flen = u64::from(field(
            pcm_regs.read32(pcm::MODE_A),
            pcm::MODE_FLEN_SHIFT,
            pcm::MODE_LEN_WIDTH,
        )) + 1;
        let dreq = field(pcm_regs.read32(pcm::DREQ_A), pcm::DREQ_TX_SHIFT, 7);
        let frame = match (running, self.pcm_clock.hz(board)) {
            (true, Some(hz)) => frame_ps(flen, hz),
            _ => 0,
        };
        set(
            &mut self.pcm,
            frame,
            cs & pcm::CS_DMAEN != 0,
            dreq,
            pcm::FIFO_WORDS,
            now,
        );
        [a, b]
            .into_iter()
            .filter(|w| matches!(w, ClockWrite::Ignored(_)))
            .collect()
    }

    /// The FIFO a PERMAP value names.
    pub fn fifo(&mut self, which: Which) -> &mut Fifo {
        match which {
            Which::Pwm => &mut self.pwm,
            Which::Pcm => &mut self.pcm,
        }
    }
}

/// Applies new FIFO settings; a changed frame restarts the frame timing at `now`.
fn set(f: &mut Fifo, frame: u64, dma: bool, threshold: u32, depth: u32, now: u64) {
    if f.frame_ps != frame {
        f.frame_ps = frame;
        f.next_drain_ps = now + frame;
    }
    f.dma = dma;
    f.threshold = threshold.max(1);
    f.depth = depth;
}

/// Length of a `bits`-bit frame at `hz`, in ps (exact for the integer divisors used).
fn frame_ps(bits: u64, hz: u64) -> u64 {
    (u128::from(bits) * PS_PER_S / u128::from(hz)) as u64
}

#[cfg(test)]
#[path = "pacer_tests.rs"]
mod tests;
