use super::*;
use crate::hw::mmio::PhysMem;

fn record() -> ChainRecord {
    ChainRecord {
        pid: 1,
        mem_device: "/dev/mem".into(),
        periph_base: 0xFE00_0000,
        channel: 7,
        first_bus: 0xC010_0000,
        bytes: 8192,
        pages: vec![0xC010_0000, 0xC030_0000],
        mailbox_handle: Some(3),
    }
}

#[test]
fn a_record_round_trips_and_is_forgotten() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(load(dir.path()), None);
    save(dir.path(), &record()).expect("save");
    assert_eq!(load(dir.path()), Some(record()));
    forget(dir.path());
    assert_eq!(load(dir.path()), None);
    std::fs::write(record_path(dir.path()), "{garbage").expect("write");
    assert_eq!(load(dir.path()), None, "garbage is ignored and removed");
    assert!(!record_path(dir.path()).exists());
}

#[test]
fn only_a_channel_still_in_the_recorded_chain_is_stopped() {
    let f = tempfile::NamedTempFile::new().expect("temp");
    f.as_file().set_len(4096).expect("size");
    let regs = PhysMem::open(f.path())
        .expect("open")
        .map(0, dma::CHANNEL_REGS_LEN)
        .expect("map");
    let r = record();
    // Someone else's chain on the channel now: left alone.
    channel::start(&regs, 0xC050_0000);
    assert_eq!(stop_orphan(&r, &regs), Recovered::NotRunning);
    assert_eq!(regs.read32(dma::CONBLK_AD), 0xC050_0000);
    // Ours, on its second (scattered) page: stopped.
    channel::start(&regs, 0xC030_0040);
    assert_eq!(stop_orphan(&r, &regs), Recovered::Stopped);
    assert_eq!(regs.read32(dma::CONBLK_AD), 0);
    assert!(!r.still_runs(0));
}

#[test]
fn a_live_process_is_not_an_orphan() {
    // Our parent (the test harness) is alive; a pid beyond pid_max is not.
    let parent = std::os::unix::process::parent_id();
    assert!(process_alive(parent));
    assert!(!process_alive(u32::MAX));
    assert!(
        !process_alive(std::process::id()),
        "our own record is stale by definition"
    );
}
