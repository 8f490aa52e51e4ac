//! Unit tests of `date`.

use super::*;

#[test]
fn formats_known_instants() {
    assert_eq!(utc_string(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(
        utc_string(1_700_000_000_123_456),
        "2023-11-14T22:13:20.123456Z"
    );
    assert_eq!(
        utc_string(951_782_400_000_000),
        "2000-02-29T00:00:00.000000Z"
    );
    // Must not panic at the top of the range.
    let _ = utc_string(u64::MAX);
}
