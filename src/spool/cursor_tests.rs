//! Unit tests of `cursor`.

use super::*;

#[test]
fn saved_cursor_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load(dir.path()).unwrap(), None);
    let pos = Cursor {
        acked: Position {
            segment: 7,
            offset: 1234,
        },
        next_segment: 8,
    };
    save(dir.path(), pos, true).unwrap();
    assert_eq!(load(dir.path()).unwrap(), Some(pos));
    let later = Cursor {
        acked: Position {
            segment: 9,
            offset: 8,
        },
        next_segment: 12,
    };
    save(dir.path(), later, false).unwrap();
    assert_eq!(load(dir.path()).unwrap(), Some(later));
    assert!(!dir.path().join(TMP_FILE).exists());
}

#[test]
fn a_damaged_cursor_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let good = encode(Cursor {
        acked: Position {
            segment: 1,
            offset: 2,
        },
        next_segment: 3,
    });
    for byte in 0..LEN {
        let mut bad = good;
        bad[byte] ^= 0x04;
        fs::write(dir.path().join(FILE), bad).unwrap();
        assert_eq!(load(dir.path()).unwrap(), None, "byte {byte}");
    }
    fs::write(dir.path().join(FILE), &good[..LEN - 1]).unwrap();
    assert_eq!(load(dir.path()).unwrap(), None);
}
