use super::*;
use gpiocdev::line::Direction;
use std::path::Path;

fn plan(lines: Vec<LineSpec>) -> RequestPlan {
    RequestPlan {
        lines,
        clock: EventClock::Monotonic,
        event_buffer: 64,
    }
}

#[test]
fn every_line_is_an_input_watching_both_edges_on_the_chosen_clock() {
    let mut p = plan(vec![LineSpec::plain(17), LineSpec::plain(4)]);
    p.clock = EventClock::Realtime;
    let cfg = request_config(Path::new("/dev/gpiochip4"), &p);
    assert_eq!(cfg.chip(), Path::new("/dev/gpiochip4"));
    assert_eq!(cfg.num_lines(), 2);
    for offset in [17, 4] {
        let l = cfg.line_config(offset).expect("line in the request");
        assert_eq!(l.direction, Some(Direction::Input));
        assert_eq!(l.edge_detection, Some(EdgeDetection::BothEdges));
        assert_eq!(l.event_clock, Some(CdevClock::Realtime));
        assert_eq!(l.bias, None, "bias left as it is");
        assert!(!l.active_low);
        assert_eq!(l.debounce_period, None);
    }
}

#[test]
fn bias_polarity_and_debounce_are_per_line() {
    let p = plan(vec![
        LineSpec {
            offset: 5,
            bias: Some(LineBias::PullUp),
            active_low: true,
            debounce_us: 2_000,
        },
        LineSpec {
            offset: 6,
            bias: Some(LineBias::PullDown),
            active_low: false,
            debounce_us: 0,
        },
        LineSpec {
            offset: 7,
            bias: Some(LineBias::Disabled),
            active_low: true,
            debounce_us: 1,
        },
    ]);
    let cfg = request_config(Path::new("/dev/gpiochip0"), &p);
    let l = |o| cfg.line_config(o).expect("requested").clone();
    assert_eq!(l(5).bias, Some(Bias::PullUp));
    assert!(l(5).active_low);
    assert_eq!(l(5).debounce_period, Some(Duration::from_millis(2)));
    assert_eq!(l(6).bias, Some(Bias::PullDown));
    assert!(!l(6).active_low);
    assert_eq!(l(6).debounce_period, None);
    assert_eq!(l(7).bias, Some(Bias::Disabled));
    assert!(l(7).active_low);
    assert_eq!(l(7).debounce_period, Some(Duration::from_micros(1)));
}

#[test]
fn hte_clock_is_asked_for_by_name() {
    let mut p = plan(vec![LineSpec::plain(3)]);
    p.clock = EventClock::Hte;
    let cfg = request_config(Path::new("/dev/gpiochip0"), &p);
    assert_eq!(
        cfg.line_config(3).and_then(|l| l.event_clock),
        Some(CdevClock::Hte)
    );
}

#[test]
fn same_lines_ignores_order_and_flags_but_not_the_buffer() {
    let a = plan(vec![LineSpec::plain(1), LineSpec::plain(2)]);
    let mut b = plan(vec![LineSpec::plain(2), LineSpec::plain(1)]);
    b.lines[0].active_low = true;
    assert!(a.same_lines(&b));
    b.lines.push(LineSpec::plain(3));
    assert!(!a.same_lines(&b));
    let mut c = a.clone();
    c.event_buffer = 128;
    assert!(!a.same_lines(&c));
}

#[test]
fn event_buffer_holds_100_ms_at_the_configured_maximum_rate() {
    // Two inputs at 2,000 edges/s: 4,000/s → 400 in 100 ms.
    assert_eq!(event_buffer_size(None, 4_000, 2), 400);
    // Rounded up, never below the kernel's own default of 16 per line.
    assert_eq!(event_buffer_size(None, 1, 1), 16);
    assert_eq!(event_buffer_size(None, 101, 10), 160);
    assert_eq!(event_buffer_size(None, 1_605, 1), 161);
    // The default limit (25,000/s) on 3 inputs would want 7,500: the kernel caps at 1,024.
    assert_eq!(event_buffer_size(None, 75_000, 3), MAX_EVENT_BUFFER);
}

#[test]
fn a_configured_event_buffer_wins_within_the_kernel_limits() {
    assert_eq!(event_buffer_size(Some(32), 75_000, 3), 32);
    assert_eq!(event_buffer_size(Some(5_000), 0, 1), MAX_EVENT_BUFFER);
    assert_eq!(event_buffer_size(Some(0), 0, 1), 1);
}
