//! The emulated machine: memory, DMA channels, timer, GPIO levels and pacing peripherals on one
//! emulated time line (picoseconds). The agent's registers are plain memory in the board file;
//! the machine polls them, as a peripheral would see the writes.

use std::sync::{Arc, Mutex};

use super::FaultsConfig;
#[cfg(test)]
use crate::hw::board::Board;
use crate::hw::board::BoardKind;
use crate::hw::mmio::{Mapping, PhysMem};
use crate::hw::regs::{self, cm, dma, gpio, mbox, mem, pcm, pwm, st};
use crate::signal::rng::SplitMix64;
use crate::vcd::{Cursor, Trace};

use super::board_file::{self, DRAM_BYTES, PERIPH_BYTES};
use super::dma::{cs_request, Channel, ControlBlock, CsRequest, StopReason};
use super::mailbox::{Allocator, MailboxAction};
use super::pacer::{ClockWrite, Pacers, Which};
use super::pads::{PadEvent, Pads};
use super::wires::Wires;
use super::{EmuError, EmuEvent};

/// Picoseconds per microsecond.
pub const PS_PER_US: u64 = 1_000_000;
/// Control blocks executed between two looks at the registers.
const CBS_PER_POLL: u32 = 1024;

/// The GPLEV1 bits that exist: GPIO 32–53 on the BCM2835/6/7 (54 GPIOs), 32–57 on the
/// BCM2711 (58 GPIOs: bcm2711.dtsi's gpio node, `gpio-ranges = <&gpio 0 0 58>`).
pub fn gplev1_mask(board: BoardKind) -> u32 {
    match board {
        BoardKind::Pi1 | BoardKind::Pi3 => (1 << (54 - 32)) - 1,
        BoardKind::Pi4 => (1 << (58 - 32)) - 1,
    }
}

/// Below the DMA memory the mailbox hands out: where other users' chains live.
const FOREIGN_CHAINS_PHYS: u64 = 0x8000;

/// Starts another user's one-CB ring on channel `ch`: an SPI TX write (PERMAP 6) gated on a
/// DREQ the emulator never raises, so the channel stays ACTIVE on a CONBLK_AD that is not ours.
fn foreign_chain(periph: &Mapping, dram: &Mapping, ch: u8, i: usize) {
    let phys = FOREIGN_CHAINS_PHYS + i as u64 * dma::CB_BYTES as u64;
    let bus = mem::BUS_ALIAS_DIRECT | phys as u32;
    let cb = [
        dma::TI_DEST_DREQ | dma::ti_permap(6) | dma::TI_WAIT_RESP,
        bus,
        regs::periph_bus(0x20_4004),
        4,
        0,
        bus,
        0,
        0,
    ];
    dram.copy_in(phys, &cb);
    let off = dma::channel_offset(ch);
    periph.write32(off + dma::CONBLK_AD, bus);
    periph.write32(off + dma::CS, dma::CS_ACTIVE);
}

/// Where a bus address lands.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Offset in the peripheral window.
    Periph(u64),
    /// Physical DRAM address.
    Dram(u64),
}

/// What executing one control block did.
enum Step {
    /// Executed.
    Done,
    /// Must wait until this time for its DREQ (beyond the time granted).
    WaitUntil(u64),
    /// Its DREQ never comes (pacing not set up).
    Blocked,
    /// A bus error.
    Error(String),
}

/// The whole emulated board.
pub struct Machine {
    board: BoardKind,
    header: Mapping,
    dram: Mapping,
    periph: Mapping,
    channels: [Channel; 16],
    pacers: Pacers,
    alloc: Allocator,
    signal: Option<Cursor>,
    signal_end_fs: u128,
    loop_signal: bool,
    /// Emulated time.
    pub now_ps: u64,
    clo_start: u32,
    faults: FaultsConfig,
    rng: SplitMix64,
    next_stall_ps: u64,
    reset_done: bool,
    pacer_stolen: bool,
    cb_cost_ps: u64,
    /// The time `run_until` may reach.
    target_ps: u64,
    /// Clock manager, PWM and PCM register blocks.
    blocks: [Mapping; 3],
    /// The GPIO block, and the outputs and jumper wires its writes drive.
    gpio: (Mapping, Wires),
    /// Pull resistors, and what floating pins read.
    pads: Pads,
    events: Arc<Mutex<Vec<(u64, EmuEvent)>>>,
}

impl Machine {
    /// A machine on the board file `mem`, driven by `signal`.
    pub fn new(
        mem: &PhysMem,
        board: BoardKind,
        signal: Option<&Trace>,
        loop_signal: bool,
        faults: FaultsConfig,
        cb_cost_ns: u32,
        events: Arc<Mutex<Vec<(u64, EmuEvent)>>>,
    ) -> Result<Machine, EmuError> {
        let base = board_file::periph_base(board);
        let periph = mem.map(base, PERIPH_BYTES as usize)?;
        for ch in dma::FIRST_LITE..=dma::LAST_LITE {
            periph.write32(dma::channel_offset(ch) + dma::DEBUG, dma::DEBUG_LITE);
        }
        for (i, &ch) in faults.foreign_channels.iter().enumerate() {
            if ch <= dma::MAX_CHANNEL {
                foreign_chain(&periph, &mem.map(0, DRAM_BYTES as usize)?, ch, i);
            }
        }
        let clo_start = match faults.clo_before_wrap_us {
            0 => 0,
            n => 0u32.wrapping_sub(n),
        };
        Ok(Machine {
            board,
            header: mem.map(0, board_file::HEADER_LEN)?,
            dram: mem.map(0, DRAM_BYTES as usize)?,
            periph,
            channels: [Channel::default(); 16],
            pacers: Pacers::default(),
            alloc: Allocator::default(),
            signal: signal.map(|t| t.cursor()),
            signal_end_fs: signal.map(|t| t.end_fs()).unwrap_or(0),
            loop_signal,
            now_ps: 0,
            clo_start,
            rng: SplitMix64::new(0x5EED),
            next_stall_ps: u64::from(faults.stall_every_ms) * 1000 * PS_PER_US,
            reset_done: false,
            pacer_stolen: false,
            cb_cost_ps: u64::from(cb_cost_ns) * 1000,
            target_ps: 0,
            blocks: [
                mem.map(base + cm::BASE, 0x100)?,
                mem.map(base + pwm::BASE, 0x100)?,
                mem.map(base + pcm::BASE, 0x100)?,
            ],
            gpio: (
                mem.map(base + gpio::BASE, 0x100)?,
                Wires::new(&[], faults.loopback_drop_every),
            ),
            pads: Pads::new(mem, board, signal.and_then(|t| t.floating_cursor()))?,
            faults,
            events,
        })
    }

    fn event(&self, e: EmuEvent) {
        if let Ok(mut v) = self.events.lock() {
            v.push((self.now_ps / 1000, e));
        }
    }

    /// The system timer at the current time (µs since boot, wrapping at 2^32).
    fn timer_us(&self) -> u64 {
        u64::from(self.clo_start) + self.now_ps / PS_PER_US
    }

    /// Publishes the timer in its registers, for CPU reads.
    pub fn show_timer(&self) {
        let t = self.timer_us();
        self.periph.write32(st::BASE + st::CLO, t as u32);
        self.periph.write32(st::BASE + st::CHI, (t >> 32) as u32);
        board_file::heartbeat(&self.header);
    }

    /// GPIO levels (bit n = GPIO n) now.
    fn levels(&mut self) -> u64 {
        let mut t_fs = u128::from(self.now_ps) * 1000;
        if self.loop_signal && self.signal_end_fs > 0 {
            t_fs %= self.signal_end_fs;
        }
        let driven = self.signal.as_mut().map(|c| c.level_at(t_fs)).unwrap_or(0);
        // Pulls first (what floating pins read), then outputs and the wires they drive.
        let pads = self.pads.read(driven, t_fs);
        self.gpio.1.levels(pads)
    }

    /// Wires `pairs` of [out, in] pins (`sampler.emulated.loopback`).
    pub fn wire(&mut self, pairs: &[[u8; 2]]) {
        self.gpio.1 = Wires::new(pairs, self.faults.loopback_drop_every);
    }

    fn translate(&self, bus: u32) -> Option<Target> {
        if bus & 0xFF00_0000 == regs::PERIPH_BUS_BASE {
            let off = u64::from(bus & 0x00FF_FFFF);
            return (off + 4 <= PERIPH_BYTES).then_some(Target::Periph(off));
        }
        let phys = u64::from(bus & !mem::BUS_ALIAS_MASK);
        // BCM2711's legacy engines see DRAM only through one window: bcm2711.dtsi's
        // `dma-ranges = <0xc0000000 0x0 0x00000000 0x40000000>` (bus 0xC000_0000 + x is
        // physical x, x below 1 GiB). Any other DRAM bus address is an AXI error there. The
        // older SoCs decode all four 1 GiB aliases (0x0/0x4/0x8/0xC…) to the same DRAM.
        if self.board == BoardKind::Pi4 && bus & mem::BUS_ALIAS_MASK != mem::BUS_ALIAS_DIRECT {
            return None;
        }
        (phys + 4 <= DRAM_BYTES && phys % 4 == 0).then_some(Target::Dram(phys))
    }

    fn read(&mut self, bus: u32) -> Option<u32> {
        Some(match self.translate(bus)? {
            Target::Periph(off) if off == st::BASE + st::CLO => self.timer_us() as u32,
            Target::Periph(off) if off == st::BASE + st::CHI => (self.timer_us() >> 32) as u32,
            Target::Periph(off) if off == gpio::BASE + gpio::GPLEV0 => self.levels() as u32,
            Target::Periph(off) if off == gpio::BASE + gpio::GPLEV1 => {
                (self.levels() >> 32) as u32 & gplev1_mask(self.board)
            }
            Target::Periph(off) => self.periph.read32(off & !3),
            Target::Dram(p) => self.dram.read32(p),
        })
    }

    fn write(&mut self, bus: u32, v: u32) -> Option<()> {
        match self.translate(bus)? {
            Target::Periph(off) => self.periph.write32(off & !3, v),
            Target::Dram(p) => self.dram.write32(p, v),
        }
        Some(())
    }

    /// Looks at every register the agent may have written.
    pub fn poll_registers(&mut self) {
        self.gpio.1.poll(&self.gpio.0);
        let ignored = self.pacers.poll(
            &self.blocks[0],
            &self.blocks[1],
            &self.blocks[2],
            self.board,
            self.now_ps,
        );
        for w in ignored {
            if let ClockWrite::Ignored(off) = w {
                self.event(EmuEvent::PasswordlessWriteIgnored { reg: off });
            }
        }
        for n in 0..=dma::MAX_CHANNEL {
            self.poll_channel(n);
        }
        self.poll_mailbox();
        for e in self.pads.poll(self.now_ps) {
            self.event(match e {
                PadEvent::Set { pin, pull } => EmuEvent::PullSet { pin, pull },
                PadEvent::PulseIgnored { pin, why } => EmuEvent::PullPulseIgnored { pin, why },
            });
        }
    }

    fn poll_channel(&mut self, n: u8) {
        let off = dma::channel_offset(n);
        let cs = self.periph.read32(off + dma::CS);
        let ch = self.channels[usize::from(n)];
        if ch.running {
            match cs_request(cs) {
                CsRequest::Reset => self.stop(n, StopReason::Reset),
                CsRequest::Abort => self.abort(n, cs),
                CsRequest::Pause => self.stop(n, StopReason::Cleared),
                CsRequest::Run => {}
            }
        } else if cs & dma::CS_ACTIVE != 0 && cs & (dma::CS_ABORT | dma::CS_RESET) == 0 {
            let cb = self.periph.read32(off + dma::CONBLK_AD);
            if cb != 0 {
                // DEBUG's error bits are write-1-to-clear: what the agent wrote there before
                // starting was a clear, not a value (a memory file cannot tell the two apart).
                let debug = self.periph.read32(off + dma::DEBUG);
                self.periph
                    .write32(off + dma::DEBUG, debug & !dma::DEBUG_ERRORS);
                let c = &mut self.channels[usize::from(n)];
                c.running = true;
                c.cb = cb;
                c.first_start_ps.get_or_insert(self.now_ps);
                self.event(EmuEvent::ChannelStarted { ch: n, cb });
            }
        }
    }

    /// ABORT on a running channel: the CB in hand is dropped and the next one loaded; the
    /// channel carries on (only a NEXTCONBK of 0 ends it), and the self-clearing bit reads 0.
    fn abort(&mut self, n: u8, cs: u32) {
        let off = dma::channel_offset(n);
        let cb_bus = self.channels[usize::from(n)].cb;
        let next = match self.translate(cb_bus) {
            Some(Target::Dram(phys)) if phys + dma::CB_BYTES as u64 <= DRAM_BYTES => {
                ControlBlock::read(&self.dram, phys).next
            }
            _ => 0,
        };
        self.event(EmuEvent::ChannelAborted { ch: n, next });
        if next == 0 {
            self.stop(n, StopReason::End);
            return;
        }
        self.channels[usize::from(n)].cb = next;
        self.periph.write32(off + dma::CONBLK_AD, next);
        self.periph
            .write32(off + dma::CS, (cs & !dma::CS_ABORT) | dma::CS_ACTIVE);
    }

    fn stop(&mut self, n: u8, why: StopReason) {
        let off = dma::channel_offset(n);
        self.channels[usize::from(n)].running = false;
        let cs = self.periph.read32(off + dma::CS);
        let cs = match why {
            StopReason::Reset | StopReason::Fault => 0,
            StopReason::End => (cs & !dma::CS_ACTIVE) | dma::CS_END,
            StopReason::Error => (cs & !dma::CS_ACTIVE) | dma::CS_ERROR,
            StopReason::Abort => cs & !(dma::CS_ACTIVE | dma::CS_ABORT),
            // Paused: CONBLK_AD is kept, and setting ACTIVE again resumes from it.
            StopReason::Cleared => (cs & !dma::CS_ACTIVE) | dma::CS_PAUSED,
        };
        self.periph.write32(off + dma::CS, cs);
        if why != StopReason::Error && why != StopReason::Cleared {
            self.periph.write32(off + dma::CONBLK_AD, 0);
        }
        self.event(EmuEvent::ChannelStopped { ch: n, why });
    }

    fn poll_mailbox(&mut self) {
        let w = self.periph.read32(mbox::BASE + mbox::WRITE);
        if w == 0 {
            return;
        }
        let bus = w & !0xF;
        let phys = u64::from(bus & !mem::BUS_ALIAS_MASK);
        if w & 0xF == mbox::CHANNEL_PROPERTY && phys + 4096 <= DRAM_BYTES {
            for action in self.alloc.serve(&self.dram, phys) {
                let e = self.mailbox_event(action);
                self.event(e);
            }
            let (count, bytes) = self.alloc.live();
            board_file::show_allocations(&self.header, count, bytes);
        }
        self.periph.write32(mbox::BASE + mbox::WRITE, 0);
        self.periph.write32(mbox::BASE + mbox::READ, w);
    }

    /// The event a mailbox action is logged as; a release names the channels still running
    /// with their control blocks inside the released memory.
    fn mailbox_event(&self, action: MailboxAction) -> EmuEvent {
        match action {
            MailboxAction::Allocated(a) => EmuEvent::MemAllocated {
                handle: a.handle,
                phys: a.phys,
                size: a.size,
            },
            MailboxAction::Locked(handle) => EmuEvent::MemLocked { handle },
            MailboxAction::Unlocked(handle) => EmuEvent::MemUnlocked { handle },
            MailboxAction::Released(a) => {
                let running_inside = (0..=dma::MAX_CHANNEL)
                    .filter(|&n| {
                        let c = self.channels[usize::from(n)];
                        let phys = u64::from(c.cb & !mem::BUS_ALIAS_MASK);
                        c.running && (a.phys..a.phys + a.size).contains(&phys)
                    })
                    .collect();
                EmuEvent::MemReleased {
                    handle: a.handle,
                    running_inside,
                }
            }
            MailboxAction::Unsupported(tag) => EmuEvent::MailboxTagUnsupported { tag },
        }
    }

    /// Runs the machine up to emulated time `target_ps` (or less, if a channel needs a look at
    /// the registers first). Returns the time reached.
    pub fn run_until(&mut self, target_ps: u64) -> u64 {
        self.target_ps = target_ps;
        self.fault_reset();
        self.fault_steal_pacer();
        let mut executed = 0;
        let mut idle_until = target_ps;
        for n in 0..=dma::MAX_CHANNEL {
            while self.channels[usize::from(n)].running
                && executed < CBS_PER_POLL
                && self.now_ps <= target_ps
            {
                match self.step(n) {
                    Step::Done => executed += 1,
                    Step::WaitUntil(t) => {
                        idle_until = idle_until.min(t.max(self.now_ps));
                        break;
                    }
                    Step::Blocked => break,
                    Step::Error(why) => {
                        // The legacy DEBUG register has one AXI error bit (bcm2835-dma.c:
                        // LAST_NOT_SET, FIFO and READ errors only): a failed CB fetch, read or
                        // write response all show there. The LITE bit stays.
                        let off = dma::channel_offset(n);
                        let debug = self.periph.read32(off + dma::DEBUG);
                        self.periph
                            .write32(off + dma::DEBUG, debug | dma::DEBUG_READ_ERROR);
                        self.event(EmuEvent::BusError { ch: n, why });
                        self.stop(n, StopReason::Error);
                        break;
                    }
                }
            }
        }
        if executed < CBS_PER_POLL {
            // Nothing more to do before the target: time passes.
            self.now_ps = self.now_ps.max(idle_until.min(target_ps));
        }
        self.now_ps
    }

    /// Someone else resets the channel once, `reset_after_ms` after it first started.
    fn fault_reset(&mut self) {
        if self.faults.reset_after_ms == 0 || self.reset_done {
            return;
        }
        let at = u64::from(self.faults.reset_after_ms) * 1000 * PS_PER_US;
        for n in 0..=dma::MAX_CHANNEL {
            let c = self.channels[usize::from(n)];
            if c.running && c.first_start_ps.is_some_and(|s| self.now_ps >= s + at) {
                self.reset_done = true;
                self.event(EmuEvent::ChannelResetByFault { ch: n });
                self.stop(n, StopReason::Fault);
            }
        }
    }

    /// Another user (analogue audio going idle) stops the PWM and PCM clocks once,
    /// `pacer_stolen_after_ms` after a channel first started: with the password, as a driver
    /// would, so the clock manager takes it. A paced chain then waits for a DREQ that never
    /// comes, with ACTIVE still set, until the agent programs the clock again.
    fn fault_steal_pacer(&mut self) {
        if self.faults.pacer_stolen_after_ms == 0 || self.pacer_stolen {
            return;
        }
        let at = u64::from(self.faults.pacer_stolen_after_ms) * 1000 * PS_PER_US;
        let started = self.channels.iter().filter_map(|c| c.first_start_ps).min();
        if started.is_some_and(|s| self.now_ps >= s + at) {
            self.pacer_stolen = true;
            for ctl in [cm::PWMCTL, cm::PCMCTL] {
                self.blocks[0].write32(ctl, cm::PASSWD | cm::SRC_OSC);
            }
            self.poll_registers();
            self.event(EmuEvent::PacerStolen);
        }
    }

    /// Executes the control block channel `n` is on.
    fn step(&mut self, n: u8) -> Step {
        let cb_bus = self.channels[usize::from(n)].cb;
        let Some(Target::Dram(phys)) = self.translate(cb_bus) else {
            return Step::Error(format!("control block address {cb_bus:#010x} is not DRAM"));
        };
        if phys % dma::CB_ALIGN as u64 != 0 || phys + dma::CB_BYTES as u64 > DRAM_BYTES {
            return Step::Error(format!(
                "control block at {cb_bus:#010x} is not 32-byte aligned"
            ));
        }
        let cb = ControlBlock::read(&self.dram, phys);
        // The GPU's DMA stall: nothing moves for stall_us every stall_every_ms.
        if self.faults.stall_us > 0
            && self.faults.stall_every_ms > 0
            && self.now_ps >= self.next_stall_ps
        {
            self.now_ps = self
                .now_ps
                .max(self.next_stall_ps + u64::from(self.faults.stall_us) * PS_PER_US);
            self.next_stall_ps += u64::from(self.faults.stall_every_ms) * 1000 * PS_PER_US;
        }
        let words = match cb.words(dma::is_lite(n)) {
            Ok(w) => w,
            Err(why) => return Step::Error(why.into()),
        };
        let which = match cb.dreq() {
            Some(dma::PERMAP_PWM) => Some(Which::Pwm),
            Some(dma::PERMAP_PCM_TX) => Some(Which::Pcm),
            // A DREQ of a peripheral the emulator does not model never comes.
            Some(_) => return Step::Blocked,
            None => None,
        };
        if let Some(which) = which {
            let Some(at) = self.pacers.fifo(which).accept_at(self.now_ps) else {
                return Step::Blocked;
            };
            if at > self.target_ps {
                // Not within the time granted: resume from here next time.
                return Step::WaitUntil(at);
            }
            let jitter = match self.faults.jitter_ns {
                0 => 0,
                j => self.rng.range(0, u64::from(j)) * 1000,
            };
            self.now_ps = self.now_ps.max(at) + jitter;
            for _ in &words {
                self.pacers.fifo(which).push(self.now_ps);
            }
        } else {
            for (s, d) in words {
                let v = if cb.ti & dma::TI_SRC_IGNORE != 0 {
                    Some(0)
                } else {
                    self.read(s)
                };
                let Some(v) = v else {
                    return Step::Error(format!("read from {s:#010x}: no such address"));
                };
                if cb.ti & dma::TI_DEST_IGNORE == 0 && self.write(d, v).is_none() {
                    return Step::Error(format!("write to {d:#010x}: no such address"));
                }
            }
        }
        self.now_ps += self.cb_cost_ps;
        let off = dma::channel_offset(n);
        self.periph.write32(off + dma::TI, cb.ti);
        self.periph.write32(off + dma::NEXTCONBK, cb.next);
        if cb.next == 0 {
            self.stop(n, StopReason::End);
        } else {
            self.channels[usize::from(n)].cb = cb.next;
            self.periph.write32(off + dma::CONBLK_AD, cb.next);
        }
        Step::Done
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
