use super::*;

#[test]
fn ordinary_prefixes_pass() {
    for p in ["edgetap", "fleet/site-1", "ha", "a/b/c", "x$y", "é"] {
        assert_eq!(prefix_problem(p), None, "{p}");
    }
    assert_eq!(prefix_problem(&"a".repeat(MAX_PREFIX_BYTES)), None);
}

#[test]
fn prefixes_that_break_or_escape_the_topic_tree_are_refused() {
    for p in [
        "",
        "$SYS",
        "fleet/$SYS",
        "$share/g",
        "a/+",
        "a/#",
        "a\0b",
        "a\nb",
        "a\u{7f}",
        "/a",
        "a/",
        "a//b",
    ] {
        assert!(prefix_problem(p).is_some(), "{p:?}");
    }
}

#[test]
fn a_prefix_longer_than_the_bound_is_refused_with_its_size() {
    let long = "a".repeat(65_536);
    let reason = prefix_problem(&long).unwrap();
    assert!(reason.contains("65536 bytes"), "{reason}");
    // Bytes, not characters: 129 two-byte characters are 258 bytes.
    assert!(prefix_problem(&"é".repeat(129)).is_some());
}
