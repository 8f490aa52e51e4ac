//! Unit tests of `segment`.

use super::*;

#[test]
fn names_sort_by_number_and_parse_back() {
    assert_eq!(file_name(42), "00000000000000000042.seg");
    assert!(file_name(9) < file_name(10));
    assert_eq!(parse_name(&file_name(u64::MAX)), Some(u64::MAX));
    for other in [
        "42.seg",
        "0000000000000000004a.seg",
        "00000000000000000042.seg.tmp",
        "cursor",
    ] {
        assert_eq!(parse_name(other), None, "{other}");
    }
}

#[test]
fn headers_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let check = |bytes: &[u8]| {
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        check_header(&File::open(&path).unwrap(), bytes.len() as u64).unwrap()
    };
    assert_eq!(check(b"ETSPOOL\x02rest"), HeaderCheck::Ours(Framing::V2));
    assert_eq!(check(b"ETSPOOL\x01rest"), HeaderCheck::Ours(Framing::V1));
    assert_eq!(check(b""), HeaderCheck::Torn);
    assert_eq!(check(b"ETSP"), HeaderCheck::Torn);
    assert_eq!(check(b"ETSPOOL\x07"), HeaderCheck::Version(7));
    assert_eq!(check(b"hello, world"), HeaderCheck::Foreign);
    assert_eq!(check(b"ETX"), HeaderCheck::Foreign);
}

#[test]
fn create_never_replaces_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = create(dir.path(), 3).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), HEADER);
    std::fs::write(&path, b"mine").unwrap();
    assert!(create(dir.path(), 3).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), b"mine");
}
