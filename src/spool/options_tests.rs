//! Unit tests of `options`.

use super::*;

#[test]
fn segment_size_is_a_sixteenth_within_bounds() {
    assert_eq!(SpoolOptions::new("d", 64 << 20).segment_bytes, 4 << 20);
    assert_eq!(SpoolOptions::new("d", 1 << 20).segment_bytes, MIN_SEGMENT);
    assert_eq!(SpoolOptions::new("d", 1 << 30).segment_bytes, MAX_SEGMENT);
}

#[test]
fn policies_use_the_config_spelling() {
    let p: DropPolicy = serde_json::from_str(r#""drop_newest""#).unwrap();
    assert_eq!(p, DropPolicy::DropNewest);
    let f: FsyncPolicy = serde_json::from_str(r#""never""#).unwrap();
    assert_eq!(f, FsyncPolicy::Never);
    assert_eq!(
        serde_json::to_string(&FsyncPolicy::Batch).unwrap(),
        r#""batch""#
    );
    assert_eq!(DropPolicy::default(), DropPolicy::DropOldest);
    assert_eq!(FsyncPolicy::default(), FsyncPolicy::Interval);
}
