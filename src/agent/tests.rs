//! Unit tests of `agent`.

use super::*;

#[test]
fn run_ids_are_exact_as_doubles_and_differ() {
    let ids: Vec<u64> = (0..64).map(|_| new_run_id()).collect();
    for id in &ids {
        assert!((1..=MAX_RUN_ID).contains(id), "{id}");
        assert_eq!(
            *id as f64 as u64, *id,
            "{id} survives a round trip through f64"
        );
    }
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert!(distinct.len() > 60, "random, not constant: {ids:?}");
}
