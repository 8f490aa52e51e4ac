//! Whether a signal drives the pins a config watches: a VCD without `gpio<N>` wires (or with
//! other pins than the watched ones) replays as silence, which looks exactly like a quiet input.

use super::Trace;

/// What is wrong with `trace` as the signal for `watched` pins, for a warning; `None` when it
/// drives every watched pin.
pub fn uncovered(trace: &Trace, watched: impl IntoIterator<Item = u8>) -> Option<String> {
    let missing: Vec<u8> = watched
        .into_iter()
        .filter(|&p| p > 63 || trace.pins() >> p & 1 == 0)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    let missing_text: Vec<String> = missing.iter().map(|p| format!("gpio{p}")).collect();
    let wires = list(trace.wires());
    Some(if trace.pins() == 0 {
        format!(
            "the signal has no gpio<N> wire, so the watched pins ({}) never change; wires found: {wires}",
            missing_text.join(", ")
        )
    } else {
        format!(
            "the signal drives no wire for {}, so they never change; wires found: {wires}",
            missing_text.join(", ")
        )
    })
}

#[cfg(test)]
#[path = "coverage_tests.rs"]
mod tests;
