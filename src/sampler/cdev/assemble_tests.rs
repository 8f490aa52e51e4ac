use super::*;

/// Event timestamps in these tests are UTC ns already.
fn utc(ns: u64) -> u64 {
    ns / 1000
}

fn ev(t_us: u64, offset: u32, level: u8, seqno: u32, line_seqno: u32) -> LineEvent {
    LineEvent {
        timestamp_ns: t_us * 1000,
        level,
        offset,
        seqno,
        line_seqno,
    }
}

fn edge(pin: u8, level: u8, t_us: u64) -> Edge {
    Edge {
        pin,
        level,
        t_us,
        after_gap: false,
    }
}

/// Pins 17 (low) and 4 (high), requested at 1,000 µs.
fn started() -> (Assembler, EdgeChunk) {
    let mut a = Assembler::new();
    a.requested(&[(17, 0), (4, 1)], 1_000);
    let mut c = EdgeChunk::default();
    a.chunk(&[], utc, 1_000 + VOUCH_MARGIN_US, &mut c);
    (a, c)
}

#[test]
fn the_first_chunk_starts_every_pin_at_the_level_read() {
    let (a, c) = started();
    assert_eq!(
        c.initial,
        Some(vec![
            PinLevel { pin: 17, level: 0 },
            PinLevel { pin: 4, level: 1 }
        ])
    );
    assert_eq!(c.gap, None, "the first request follows nothing");
    assert!(c.edges.is_empty());
    assert_eq!(c.until_us, 1_000);
    assert_eq!(a.counters(), AssemblyCounters::default());
}

#[test]
fn events_become_edges_and_the_chunk_vouches_up_to_the_read_less_the_margin() {
    let (mut a, mut c) = started();
    let events = [
        ev(1_500, 17, 1, 1, 1),
        ev(1_600, 4, 0, 2, 1),
        ev(1_700, 17, 0, 3, 2),
    ];
    a.chunk(&events, utc, 10_000, &mut c);
    assert_eq!(c.initial, None, "pins are started once");
    assert_eq!(c.gap, None);
    assert_eq!(
        c.edges,
        [edge(17, 1, 1_500), edge(4, 0, 1_600), edge(17, 0, 1_700)]
    );
    assert_eq!(c.until_us, 10_000 - VOUCH_MARGIN_US);
    // No event: the chunk still vouches for the quiet time, so filters and batches move on.
    a.chunk(&[], utc, 20_000, &mut c);
    assert!(c.edges.is_empty());
    assert_eq!(c.until_us, 20_000 - VOUCH_MARGIN_US);
}

#[test]
fn a_seqno_jump_is_a_gap_counting_the_lost_edges() {
    let (mut a, mut c) = started();
    a.chunk(&[ev(1_500, 17, 1, 1, 1)], utc, 1_600, &mut c);
    // The buffer overflowed: seqno 2..=4 never arrive (two on pin 17, one on pin 4).
    let events = [ev(2_000, 17, 0, 5, 4), ev(2_100, 4, 1, 6, 2)];
    a.chunk(&events, utc, 9_000, &mut c);
    let gap = c.gap.expect("the overflow is reported");
    assert_eq!(gap.edges, 3, "edges, not samples");
    assert_eq!(gap.samples, 0);
    assert_eq!(gap.from_us, 1_500, "the last time the source vouched for");
    assert_eq!(gap.to_us, 2_000, "the first event after the hole");
    // Pin 17 lost two edges and ends low again after its falling edge: it is after the gap.
    // Pin 4 lost its falling edge: its rising event repeats the level it had and is dropped.
    assert_eq!(
        c.edges,
        [Edge {
            after_gap: true,
            ..edge(17, 0, 2_000)
        }]
    );
    let n = a.counters();
    assert_eq!((n.overflows, n.edges_lost, n.repeated), (1, 3, 1));
}

#[test]
fn only_lines_whose_line_seqno_jumped_are_after_the_gap() {
    let (mut a, mut c) = started();
    a.chunk(
        &[ev(1_100, 4, 0, 1, 1), ev(1_200, 17, 1, 2, 1)],
        utc,
        1_300,
        &mut c,
    );
    // seqno 3 was lost, on pin 4 (line_seqno 2): pin 17's next edge is not after the gap.
    let events = [ev(3_000, 17, 0, 4, 2), ev(3_100, 4, 0, 5, 3)];
    a.chunk(&events, utc, 4_000, &mut c);
    assert_eq!(c.gap.map(|g| g.edges), Some(1));
    assert_eq!(
        c.edges,
        [edge(17, 0, 3_000)],
        "pin 4 lost its rising edge: its falling event repeats its level"
    );
    // Pin 4's next real edge is flagged: the line lost an event before it.
    a.chunk(&[ev(5_000, 4, 1, 6, 4)], utc, 6_000, &mut c);
    assert_eq!(c.gap, None);
    assert_eq!(
        c.edges,
        [Edge {
            after_gap: true,
            ..edge(4, 1, 5_000)
        }],
        "the flag waits for the line's first edge after the gap"
    );
    a.chunk(&[ev(5_100, 4, 0, 7, 5)], utc, 7_000, &mut c);
    assert_eq!(c.edges, [edge(4, 0, 5_100)], "and only that one");
}

#[test]
fn an_overflowing_burst_loses_the_oldest_events_and_says_how_many() {
    // The kernel keeps the newest `event_buffer` events: 40 edges on pin 17 with a buffer of
    // 16 arrive as seqno 25..=40.
    let (mut a, mut c) = started();
    let events: Vec<LineEvent> = (25..=40u32)
        .map(|s| ev(2_000 + u64::from(s), 17, (s % 2) as u8, s, s))
        .collect();
    a.chunk(&events, utc, 50_000, &mut c);
    let gap = c.gap.expect("overflow");
    assert_eq!(gap.edges, 24);
    assert_eq!(
        c.edges.len(),
        16,
        "alternating levels: every event is an edge"
    );
    assert!(c.edges[0].after_gap);
    assert!(c.edges[1..].iter().all(|e| !e.after_gap));
    assert_eq!(a.counters().edges_lost, 24);
}

#[test]
fn seqnos_wrap_without_a_gap() {
    let (mut a, mut c) = started();
    a.chunk(&[ev(1_100, 17, 1, u32::MAX, u32::MAX)], utc, 1_200, &mut c);
    a.chunk(&[ev(1_300, 17, 0, 0, 0)], utc, 1_400, &mut c);
    assert_eq!(c.gap, None);
    assert_eq!(c.edges, [edge(17, 0, 1_300)]);
}

#[test]
fn an_event_stamped_before_what_was_vouched_for_is_moved_up_not_back() {
    let (mut a, mut c) = started();
    a.chunk(&[], utc, 10_000, &mut c);
    assert_eq!(c.until_us, 8_000);
    // Its interrupt thread ran late: stamped at 7,000 µs, read after the chunk up to 8,000.
    a.chunk(&[ev(7_000, 17, 1, 1, 1)], utc, 11_000, &mut c);
    assert_eq!(c.edges, [edge(17, 1, 8_000)]);
    assert_eq!(a.counters().late, 1);
}

#[test]
fn edges_at_one_instant_are_in_pin_order() {
    let (mut a, mut c) = started();
    a.chunk(
        &[ev(1_500, 17, 1, 1, 1), ev(1_500, 4, 0, 2, 1)],
        utc,
        9_000,
        &mut c,
    );
    assert_eq!(c.edges, [edge(4, 0, 1_500), edge(17, 1, 1_500)]);
}

#[test]
fn a_new_request_starts_new_pins_and_reports_the_unwatched_time_as_a_gap() {
    let (mut a, mut c) = started();
    a.chunk(&[], utc, 5_000, &mut c);
    // Pin 4 dropped, pin 22 added, pin 17 went high while the lines were re-requested.
    a.requested(&[(17, 1), (22, 0)], 3_500);
    a.chunk(&[ev(4_000, 22, 1, 1, 1)], utc, 9_000, &mut c);
    assert_eq!(c.initial, Some(vec![PinLevel { pin: 22, level: 0 }]));
    assert_eq!(
        c.gap,
        Some(Gap {
            from_us: 3_000,
            to_us: 3_500,
            samples: 0,
            edges: 1,
        })
    );
    assert_eq!(
        c.edges,
        [
            Edge {
                after_gap: true,
                ..edge(17, 1, 3_500)
            },
            edge(22, 1, 4_000)
        ]
    );
    assert_eq!(
        a.levels(),
        [
            PinLevel { pin: 17, level: 1 },
            PinLevel { pin: 22, level: 1 }
        ]
    );
}

#[test]
fn a_replacing_source_takes_over_levels_and_time() {
    let (mut old, mut c) = started();
    old.chunk(&[ev(1_500, 17, 1, 1, 1)], utc, 6_000, &mut c);
    let mut new = Assembler::new();
    new.take_over(&old.levels(), old.vouched_us());
    new.requested(&[(17, 1), (4, 0)], 7_000);
    new.chunk(&[], utc, 9_500, &mut c);
    assert_eq!(
        c.initial, None,
        "pins already reported are not started again"
    );
    assert_eq!(c.gap.map(|g| (g.from_us, g.to_us)), Some((4_000, 7_000)));
    assert_eq!(
        c.edges,
        [Edge {
            after_gap: true,
            ..edge(4, 0, 7_000)
        }]
    );
}
