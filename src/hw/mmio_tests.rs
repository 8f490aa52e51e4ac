//! Unit tests of `mmio`.

use super::*;

fn memory_file(len: u64) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    f.as_file().set_len(len).expect("set_len");
    f
}

#[test]
fn unaligned_windows_address_the_right_bytes() {
    let f = memory_file(3 * 4096);
    let mem = PhysMem::open(f.path()).expect("open");
    let a = mem.map(0x1000 + 0x34, 8).expect("map a");
    let b = mem.map(0x1000, 0x100).expect("map b");
    a.write32(0, 0xDEAD_BEEF);
    a.write32(4, 7);
    assert_eq!(b.read32(0x34), 0xDEAD_BEEF);
    assert_eq!(b.read32(0x38), 7);
    assert_eq!(a.phys(), 0x1034);
    let mut out = [0u32; 2];
    b.copy_out(0x34, &mut out);
    assert_eq!(out, [0xDEAD_BEEF, 7]);
    b.copy_in(0x40, &[1, 2, 3]);
    assert_eq!(b.read32(0x48), 3);
    b.zero(0x40, 12);
    assert_eq!(b.read32(0x48), 0);
}

#[test]
#[should_panic(expected = "outside")]
fn out_of_range_access_panics_instead_of_touching_memory() {
    let f = memory_file(4096);
    let mem = PhysMem::open(f.path()).expect("open");
    let m = mem.map(0, 16).expect("map");
    m.read32(16);
}

#[test]
fn missing_file_is_named() {
    let err = PhysMem::open(Path::new("/nonexistent/mem")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/mem"), "{err}");
}
