//! `edgetap selftest`: a finite, unpaced chain on the configured board (`dma` or `emulated`),
//! checked word by word (see `hw::selftest`), one line per check. What a user runs on a new Pi
//! before deploying, and what CI runs on the emulated boards and under QEMU's raspi3b.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::hw::board::Board;
use crate::hw::channel::{self, ChannelStatus};
use crate::hw::clock::HostClock;
use crate::hw::dmamem::DmaMemory;
use crate::hw::mmio::PhysMem;
use crate::hw::periph::Peripherals;
use crate::hw::regs::dma;
use crate::hw::selftest::{ticks_advance, FiniteChain};
use crate::hw::teardown::ChannelGuard;
use crate::sampler::LevelWords;
use crate::sampler::{Backend, SamplerConfig};

use super::source;

/// Blocks of the finite chain.
const BLOCKS: usize = 4;
/// Level reads per block: enough CBs that the 1 MHz timer advances over the chain even on an
/// engine that does a few million CBs a second.
const READS: usize = 256;
/// Longest the chain may take to end (wall or emulated time).
const END_WITHIN: Duration = Duration::from_secs(2);

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub what: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// The selftest's findings, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One per line.
    pub checks: Vec<Check>,
}

impl Report {
    pub(super) fn push(&mut self, what: &str, ok: bool, detail: impl Into<String>) -> bool {
        self.checks.push(Check {
            what: what.into(),
            ok,
            detail: detail.into(),
        });
        ok
    }

    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The report as printed: one line per check, then `selftest: ok` or
    /// `selftest: FAIL <first failed check>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            out.push_str(&format!("{mark} {:<10} {}\n", c.what, c.detail));
        }
        match self.checks.iter().find(|c| !c.ok) {
            None if self.ok() => out.push_str("selftest: ok\n"),
            None => out.push_str("selftest: FAIL nothing checked\n"),
            Some(c) => out.push_str(&format!("selftest: FAIL {}: {}\n", c.what, c.detail)),
        }
        out
    }
}

/// Runs the selftest on the board the `[sampler]` settings name; `state_dir` holds the record
/// of a chain a killed run may have left running.
pub fn run(s: &SamplerConfig, state_dir: &std::path::Path) -> Report {
    let mut r = Report::default();
    if matches!(s.backend, Backend::Replay | Backend::Cdev) {
        r.push(
            "backend",
            false,
            "the selftest needs backend = \"dma\" or \"emulated\"",
        );
        return r;
    }
    let src = match source::open(s, &[]) {
        Ok(src) => src,
        Err(e) => {
            r.push("board", false, e.to_string());
            return r;
        }
    };
    let board = &src.board;
    r.push(
        "board",
        true,
        format!(
            "{} ({:?}): peripherals {:#x}, DRAM bus alias {:#010x}",
            board.model, board.soc, board.periph_base, board.dram_bus_alias
        ),
    );
    let channel_no = s.dma_channel.unwrap_or(board.default_dma_channel);
    if let Err(e) = board.check_dma_channel(channel_no, true) {
        r.push("channel", false, e.to_string());
        return r;
    }
    let periph = match Peripherals::map(&src.mem, board.periph_base) {
        Ok(p) => p,
        Err(e) => {
            r.push("registers", false, e.to_string());
            return r;
        }
    };
    src.recover_orphan(state_dir);
    let live_before = live_allocations(&src.mem, s.backend);
    let chain = FiniteChain {
        blocks: BLOCKS,
        reads: READS,
        words: LevelWords::Two,
        periph_base: board.periph_base,
    };
    let memory = match src.allocate(&periph, chain.bytes()) {
        Ok(m) => m,
        Err(e) => {
            r.push("memory", false, e.to_string());
            return r;
        }
    };
    if !run_chain(
        &mut r,
        board,
        &src.mem,
        memory.as_ref(),
        channel_no,
        &chain,
        &src.clock,
    ) {
        return r;
    }
    let method = memory.method();
    drop(memory);
    match (live_before, live_allocations(&src.mem, s.backend)) {
        (Some(before), Some(after)) => r.push(
            "release",
            after == before,
            format!("{method} memory given back ({after} allocations live, {before} before)"),
        ),
        _ => r.push("release", true, format!("{method} memory given back")),
    };
    r
}

/// Mailbox allocations the emulated board holds (None on a real Pi: the firmware does not say).
fn live_allocations(mem: &PhysMem, backend: Backend) -> Option<u32> {
    (backend == Backend::Emulated)
        .then(|| {
            crate::emu::read_header(mem)
                .ok()
                .map(|h| h.live_allocations)
        })
        .flatten()
}

/// Writes the finite chain into `memory`, runs it on `channel_no` and checks the result; false
/// when a check failed (the report says which).
pub fn run_chain(
    r: &mut Report,
    board: &Board,
    mem: &PhysMem,
    memory: &dyn DmaMemory,
    channel_no: u8,
    chain: &FiniteChain,
    clock: &Arc<dyn HostClock>,
) -> bool {
    let pages = memory.pages();
    r.push(
        "memory",
        true,
        format!(
            "{} bytes from {} in {} page(s), first at bus {:#010x}",
            chain.bytes(),
            memory.method(),
            pages.len(),
            pages.first()
        ),
    );
    let guard = match Peripherals::map_dma_channel(mem, board.periph_base, channel_no)
        .and_then(ChannelGuard::new)
    {
        Ok(g) => g,
        Err(e) => return r.push("channel", false, e.to_string()),
    };
    let map = memory.mapping();
    map.copy_in(0, &chain.image(pages));
    channel::start(guard.regs(), pages.bus(0));
    let started = Instant::now();
    let mut waited = Duration::ZERO;
    let status = loop {
        let st = channel::status(guard.regs());
        if !st.active || st.error || waited >= END_WITHIN || started.elapsed() >= END_WITHIN {
            break st;
        }
        clock.wait(Duration::from_millis(1));
        waited += Duration::from_millis(1);
    };
    let cs = guard.regs().read32(dma::CS);
    let (clean, detail) = channel_verdict(&status, cs, chain.cbs());
    let ok = r.push("channel", clean, format!("{channel_no}: {detail}"));
    drop(guard);
    if !ok {
        return false;
    }
    let read = |off: usize| map.read32(off as u64);
    let layout = chain.check_layout(read);
    let ok = r.push(
        "layout",
        layout.is_ok(),
        layout.err().unwrap_or_else(|| {
            format!(
                "{} timer words and {} level words where the layout puts them",
                chain.blocks,
                chain.blocks * chain.reads * chain.words.count()
            )
        }),
    );
    let ticks = chain.ticks(read);
    ok & r.push(
        "timer",
        ticks_advance(&ticks),
        format!("CLO read by the engine: {ticks:?}"),
    )
}

/// Whether the channel ended cleanly, and the report's words for it.
///
/// CS.ERROR is the verdict, as Linux's driver takes it: on silicon it is set whenever a DEBUG
/// error bit is. DEBUG bits under a clear CS.ERROR are reported, not failed: QEMU's model keeps
/// whatever was last written to DEBUG, so it reads back the write-1-to-clear of `start`.
pub fn channel_verdict(status: &ChannelStatus, cs: u32, cbs: usize) -> (bool, String) {
    let clean = !status.active && !status.error && cs & dma::CS_END != 0;
    let what = if status.active {
        "still running after 2 s"
    } else if clean {
        "ran and the channel stopped by itself"
    } else {
        "stopped with an error"
    };
    let mut detail = format!(
        "{cbs} control blocks {what} (CS {cs:#010x}, DEBUG errors {:#x})",
        status.debug_errors
    );
    if clean && status.debug_errors != 0 {
        detail.push_str(": DEBUG error bits without CS.ERROR (a model keeping the clearing write)");
    }
    (clean, detail)
}

#[cfg(test)]
#[path = "selftest_tests.rs"]
mod tests;
