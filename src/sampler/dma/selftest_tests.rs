use super::*;
use crate::config::BoardKind;
use crate::emu::board_file::ALLOC_START;
use crate::emu::{EmuOptions, Emulator, Mode};
use crate::hw::buspages::BusPages;
use crate::hw::mmio::Mapping;
use crate::hw::pagemap::PagemapMemory;

fn emulator(board: BoardKind) -> Emulator {
    Emulator::start(EmuOptions {
        board,
        mem: None,
        signal: None,
        loop_signal: false,
        mode: Mode::Lockstep,
        start_utc_us: Some(0),
        faults: Default::default(),
        cb_cost_ns: crate::emu::cb_cost_ns(board),
        loopback: Vec::new(),
    })
    .expect("emulator")
}

fn chain(board: &Board) -> FiniteChain {
    FiniteChain {
        blocks: BLOCKS,
        reads: READS,
        words: LevelWords::Two,
        periph_base: board.periph_base,
    }
}

/// Pages of emulated DRAM handed out out of order, as the kernel hands out anonymous pages.
fn scattered_frames(n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| ALLOC_START + ((i * 7) % 32) as u64 * 4096)
        .collect()
}

#[test]
fn a_chain_over_scattered_pages_runs_on_every_emulated_board() {
    for kind in [BoardKind::Pi1, BoardKind::Pi3, BoardKind::Pi4] {
        let emu = emulator(kind);
        let mem = PhysMem::open(emu.mem_path()).expect("board file");
        let board = Board::emulated(kind);
        let c = chain(&board);
        let frames = scattered_frames(c.bytes() / 4096);
        let memory = PagemapMemory::with_frames(&mem, &board, &frames, None).expect("memory");
        let mut r = Report::default();
        let ok = run_chain(&mut r, &board, &mem, &memory, 5, &c, &emu.clock());
        assert!(ok && r.ok(), "{kind:?}:\n{}", r.render());
    }
}

/// Pagemap memory whose pages are named with another alias than the board's.
struct WrongAlias {
    inner: PagemapMemory,
    pages: BusPages,
}

impl DmaMemory for WrongAlias {
    fn pages(&self) -> &BusPages {
        &self.pages
    }
    fn mapping(&self) -> &Mapping {
        self.inner.mapping()
    }
    fn method(&self) -> &'static str {
        "pagemap"
    }
}

#[test]
fn on_a_pi4_an_address_outside_the_dma_window_stops_the_chain_with_an_error() {
    let emu = emulator(BoardKind::Pi4);
    let mem = PhysMem::open(emu.mem_path()).expect("board file");
    let board = Board::emulated(BoardKind::Pi4);
    let c = chain(&board);
    let frames = scattered_frames(c.bytes() / 4096);
    let inner = PagemapMemory::with_frames(&mem, &board, &frames, None).expect("memory");
    // The 0x4… alias of the very same pages: fine on a BCM2835, outside bcm2711's dma-ranges.
    let pages = BusPages::new(frames.iter().map(|&f| 0x4000_0000 | f as u32).collect());
    let memory = WrongAlias { inner, pages };
    let mut r = Report::default();
    assert!(!run_chain(
        &mut r,
        &board,
        &mem,
        &memory,
        5,
        &c,
        &emu.clock()
    ));
    let text = r.render();
    assert!(
        text.contains("FAIL channel") && text.contains("stopped with an error"),
        "{text}"
    );
    assert!(
        text.ends_with("\n") && text.contains("selftest: FAIL channel"),
        "{text}"
    );
}

fn ended(error: bool, debug_errors: u32) -> ChannelStatus {
    ChannelStatus {
        active: false,
        error,
        debug_errors,
        conblk_ad: 0,
    }
}

#[test]
fn cs_error_is_the_verdict_and_stray_debug_bits_are_reported() {
    let end = dma::CS_END | dma::CS_INT;
    let (ok, detail) = channel_verdict(&ended(false, 0), end, 8);
    assert!(ok && detail.contains("stopped by itself"), "{detail}");
    // QEMU's raspi3b: DEBUG reads back the 0b111 written to clear it; CS says no error.
    let (ok, detail) = channel_verdict(&ended(false, 0b111), end, 8);
    assert!(ok && detail.contains("without CS.ERROR"), "{detail}");
    let (ok, detail) = channel_verdict(&ended(true, dma::DEBUG_READ_ERROR), end | dma::CS_ERROR, 8);
    assert!(!ok && detail.contains("stopped with an error"), "{detail}");
    let running = ChannelStatus {
        active: true,
        ..ended(false, 0)
    };
    let (ok, detail) = channel_verdict(&running, dma::CS_ACTIVE, 8);
    assert!(!ok && detail.contains("still running"), "{detail}");
    // Stopped without END: the chain did not finish.
    assert!(!channel_verdict(&ended(false, 0), 0, 8).0);
}
