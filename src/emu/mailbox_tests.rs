//! Unit tests of `mailbox`.

use super::*;
use crate::hw::mailbox::{answer, message};
use crate::hw::mmio::PhysMem;

#[test]
fn property_calls_are_answered_in_place() {
    let f = tempfile::NamedTempFile::new().expect("temp");
    f.as_file().set_len(8192).expect("size");
    let m = PhysMem::open(f.path())
        .expect("open")
        .map(0, 8192)
        .expect("map");
    let mut a = Allocator::default();
    let mut call = |tag: u32, args: &[u32]| {
        m.copy_in(0x1000, &message(tag, args, 1));
        let actions = a.serve(&m, 0x1000);
        let mut buf = vec![0u32; 8];
        m.copy_out(0x1000, &mut buf);
        (answer(tag, &buf).expect("answered")[0], actions)
    };
    let (h, _) = call(mbox::TAG_ALLOCATE, &[10_000, 4096, 4]);
    assert_ne!(h, 0);
    let (bus, _) = call(mbox::TAG_LOCK, &[h]);
    assert_eq!(bus, 0xC000_0000 | ALLOC_START as u32);
    let (_, actions) = call(mbox::TAG_RELEASE, &[h]);
    assert_eq!(
        actions,
        vec![MailboxAction::Released(Allocation {
            handle: h,
            phys: ALLOC_START,
            size: 12_288,
            flags: 4,
        })]
    );
    let (bad, _) = call(mbox::TAG_LOCK, &[h]);
    assert_eq!(bad, 0, "a released handle cannot be locked");
    let (none, _) = call(mbox::TAG_ALLOCATE, &[u32::MAX, 4096, 4]);
    assert_eq!(none, 0, "more than the board has");
}
