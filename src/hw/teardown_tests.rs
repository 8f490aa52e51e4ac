//! Unit tests of `teardown`.

use super::*;
use crate::hw::mmio::PhysMem;
use crate::hw::regs::dma;

#[test]
fn emergency_stop_and_drop_both_stop_the_channel() {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    f.as_file().set_len(4096).expect("size");
    let mem = PhysMem::open(f.path()).expect("open");
    let view = mem.map(0, dma::CHANNEL_REGS_LEN).expect("map");
    let guard =
        ChannelGuard::new(mem.map(0, dma::CHANNEL_REGS_LEN).expect("map")).expect("register");
    channel::start(guard.regs(), 0xC010_0000);
    assert_eq!(view.read32(dma::CONBLK_AD), 0xC010_0000);

    // What a signal handler or the panic hook does: the registered channel is stopped.
    stop_all();
    assert_eq!(view.read32(dma::CONBLK_AD), 0);
    assert_eq!(view.read32(dma::CS), dma::CS_RESET);
    assert!(fired());

    // Dropping the guard stops it again and frees its slot.
    channel::start(guard.regs(), 0xC010_0000);
    let addr = guard.regs().base_addr();
    drop(guard);
    assert_eq!(view.read32(dma::CONBLK_AD), 0);
    assert!(CHANNELS.iter().all(|c| c.load(Ordering::SeqCst) != addr));
}
