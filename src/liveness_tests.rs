//! Tests of the watchdog's decisions: readiness, keep-alive timing, stalls and recovery.

use super::*;

fn beats(sampling: u64, publishing: u64) -> Beats {
    Beats {
        sampling,
        publishing,
    }
}

const W: Duration = Duration::from_secs(2);
const STEP: Duration = Duration::from_millis(250);

/// Observes every STEP from `t0 + from` to `t0 + to` (exclusive) with counts from `f`, and
/// returns the times (from t0) of the planned keep-alives.
fn pings(
    w: &mut Watchdog,
    t0: Instant,
    from: Duration,
    to: Duration,
    mut f: impl FnMut(Duration) -> Beats,
) -> Vec<Duration> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        if w.observe(f(t), t0 + t).ping {
            out.push(t);
        }
        t += STEP;
    }
    out
}

fn ticking(t: Duration) -> Beats {
    let n = t.as_millis() as u64 + 1;
    beats(n, n)
}

#[test]
fn not_ready_until_both_parts_have_run() {
    let t0 = Instant::now();
    let mut w = Watchdog::new(Some(W), t0);
    assert_eq!(w.observe(beats(0, 0), t0), Plan::default());
    assert_eq!(w.observe(beats(5, 0), t0 + STEP), Plan::default());
    assert_eq!(w.observe(beats(9, 0), t0 + 2 * STEP), Plan::default());
    let p = w.observe(beats(9, 1), t0 + 3 * STEP);
    assert!(p.ready && p.ping, "{p:?}");
    assert!(w.is_ready());
    // Ready is said once.
    assert!(!w.observe(beats(10, 2), t0 + 4 * STEP).ready);
}

#[test]
fn without_a_watchdog_only_readiness_is_planned() {
    let t0 = Instant::now();
    let mut w = Watchdog::new(None, t0);
    let p = w.observe(beats(1, 1), t0);
    assert_eq!(
        p,
        Plan {
            ready: true,
            ping: false,
            change: None
        }
    );
    // Even a part quiet for minutes plans nothing: there is nobody to tell.
    assert_eq!(
        w.observe(beats(1, 1), t0 + Duration::from_secs(600)),
        Plan::default()
    );
}

#[test]
fn keep_alives_go_out_every_half_interval_while_both_progress() {
    let t0 = Instant::now();
    let mut w = Watchdog::new(Some(W), t0);
    assert_eq!(w.ping_every(), Some(W / 2));
    let got = pings(&mut w, t0, Duration::ZERO, Duration::from_secs(10), ticking);
    let want: Vec<Duration> = (0..10).map(Duration::from_secs).collect();
    assert_eq!(got, want);
}

#[test]
fn a_quiet_sampler_stops_the_keep_alives_until_it_moves_again() {
    let t0 = Instant::now();
    let mut w = Watchdog::new(Some(W), t0);
    let sec = Duration::from_secs;
    // The sampler freezes from 3 s to 8 s; the publisher keeps going.
    let frozen = |t: Duration| {
        let s = t.clamp(Duration::ZERO, sec(3)).as_millis() as u64
            + t.saturating_sub(sec(8)).as_millis() as u64;
        beats(s + 1, t.as_millis() as u64 + 1)
    };
    let got = pings(&mut w, t0, Duration::ZERO, sec(12), frozen);
    // Last change seen at 3 s; quiet for more than W/2 from 4.25 s: nothing from 4 s + one
    // step until the sampler moves at 8.25 s (seen then, a keep-alive at once), then every 1 s.
    let ms = Duration::from_millis;
    assert_eq!(
        got,
        vec![
            sec(0),
            sec(1),
            sec(2),
            sec(3),
            sec(4),
            ms(8250),
            ms(9250),
            ms(10250),
            ms(11250)
        ]
    );
}

#[test]
fn a_stall_and_the_recovery_are_reported_once_each() {
    let t0 = Instant::now();
    let mut w = Watchdog::new(Some(W), t0);
    assert!(w.observe(beats(1, 1), t0).ready);
    let mut changes = Vec::new();
    let sec = Duration::from_secs;
    for i in 1..=40u32 {
        let t = STEP * i;
        // The publisher is quiet between 2 s and 6 s.
        let p = if t > sec(2) && t < sec(6) {
            8
        } else {
            u64::from(i)
        };
        let plan = w.observe(beats(u64::from(i), p), t0 + t);
        if let Some(c) = plan.change {
            changes.push((t, c));
        }
    }
    assert_eq!(changes.len(), 2, "{changes:?}");
    match changes[0] {
        (t, Change::Stalled { part, quiet }) => {
            assert_eq!(part, Part::Publishing);
            assert!(quiet > W / 2 && t > sec(3), "{t:?} {quiet:?}");
        }
        other => panic!("first change {other:?}"),
    }
    assert_eq!(changes[1], (sec(6), Change::Resumed));
    assert_eq!(w.stalled(), None);
}

#[test]
fn the_sampler_is_named_when_both_are_quiet() {
    let t0 = Instant::now();
    let mut w = Watchdog::new(Some(W), t0);
    w.observe(beats(1, 1), t0);
    let p = w.observe(beats(1, 1), t0 + W);
    assert!(!p.ping);
    assert!(matches!(
        p.change,
        Some(Change::Stalled {
            part: Part::Sampling,
            ..
        })
    ));
}

#[test]
fn the_interval_follows_sd_watchdog_enabled() {
    let pid = 4242;
    assert_eq!(
        watchdog_interval(Some("2000000"), None, pid),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        watchdog_interval(Some("2000000"), Some("4242"), pid),
        Some(Duration::from_secs(2))
    );
    // Meant for another process (a parent that exec'd us without clearing it).
    assert_eq!(watchdog_interval(Some("2000000"), Some("1"), pid), None);
    assert_eq!(watchdog_interval(Some("2000000"), Some("x"), pid), None);
    assert_eq!(watchdog_interval(None, None, pid), None);
    assert_eq!(watchdog_interval(Some("0"), None, pid), None);
    assert_eq!(watchdog_interval(Some("soon"), None, pid), None);
}
