//! Unit tests of `loopback`.

use super::*;

#[test]
fn the_wire_is_given_as_out_colon_in() {
    assert_eq!(
        "18:17".parse::<Loopback>(),
        Ok(Loopback { out: 18, inp: 17 })
    );
    assert_eq!(
        " 40 : 41 ".parse::<Loopback>(),
        Ok(Loopback { out: 40, inp: 41 })
    );
    for (bad, says) in [
        ("18", "expected OUT:IN"),
        ("18:18", "both GPIO 18"),
        ("x:17", "OUT \"x\" is not a GPIO"),
        ("18:58", "IN \"58\" is not a GPIO number (0-57)"),
    ] {
        let err = bad.parse::<Loopback>().unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn the_ring_grows_to_hold_the_pulses_and_never_past_the_limit() {
    let s = SamplerConfig::default();
    assert_eq!(
        ring_ms(&s, 7_000),
        s.buffer_ms,
        "7 ms of pulses fit in 100 ms"
    );
    // 1 s of pulses at 5 µs × 1000-sample blocks: twice that plus four blocks.
    assert_eq!(ring_ms(&s, 1_000_000), 2_020);
    assert_eq!(ring_ms(&s, 60_000_000), 10_000);
}
