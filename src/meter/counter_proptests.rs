//! Property tests: a meter behind the real filters against a naive reference computed from the
//! same signal written as a VCD and read back, filtered by the dense reference filters
//! (`edges::filter::reference`), and measured interval by interval by brute force.

use super::*;
use crate::edges::filter::{reference as r, FilterSettings, PinFilter, PinSettings};
use crate::edges::PinLevel;
use crate::meter::CountMode;
use crate::vcd::{parse, VcdWriter, FS_PER_US};
use proptest::prelude::*;

const PIN: u8 = 22;

/// A signal sampled every µs from `t0`.
#[derive(Debug, Clone)]
struct Signal {
    t0: u64,
    levels: Vec<u8>,
}

fn signal() -> impl Strategy<Value = Signal> {
    (
        0u8..=1,
        prop_oneof![Just(0u64), Just(1_700_000_000_000_000)],
        prop::collection::vec(1u64..=40, 0..60),
    )
        .prop_map(|(first, t0, runs)| {
            let mut levels = vec![first];
            let mut level = first;
            for run in runs {
                level = 1 - level;
                levels.extend(std::iter::repeat(level).take(run as usize));
            }
            levels.extend(std::iter::repeat(level).take(5));
            Signal { t0, levels }
        })
}

fn mode() -> impl Strategy<Value = CountMode> {
    prop_oneof![
        Just(CountMode::Rising),
        Just(CountMode::Falling),
        Just(CountMode::Both)
    ]
}

/// The signal through a VCD file and back: the changes the meter's pipeline starts from.
fn through_vcd(s: &Signal) -> (u8, Vec<Edge>) {
    let mut w = VcdWriter::new(Vec::new(), &[(PIN, "meter".into())], s.t0).expect("writer");
    w.initial(
        &[PinLevel {
            pin: PIN,
            level: s.levels[0],
        }],
        s.t0,
    )
    .expect("initial");
    for (level, t) in r::edges_of(&s.levels, s.t0) {
        w.edge(&Edge {
            pin: PIN,
            level,
            t_us: t,
            after_gap: false,
        })
        .expect("edge");
    }
    let text = String::from_utf8(w.finish().expect("finish")).expect("utf-8");
    let trace = parse(&text).expect("the VCD reads back");
    let initial = (trace.initial() >> PIN & 1) as u8;
    let edges = trace
        .changes()
        .iter()
        .map(|c| Edge {
            pin: c.pin,
            level: c.level,
            t_us: s.t0 + (c.t_fs / FS_PER_US) as u64,
            after_gap: false,
        })
        .collect();
    (initial, edges)
}

/// What the reference says of one interval `(from, to]`.
#[derive(Debug, PartialEq)]
struct Expected {
    pulses: u64,
    periods: Vec<u64>,
    highs: Vec<u64>,
    lows: Vec<u64>,
}

/// Brute force over the reference-filtered edges: every pulse, period and width whose end
/// falls in `(from, to]`.
fn expected(edges: &[(u8, u64)], mode: CountMode, from: u64, to: u64) -> Expected {
    let inside = |t: u64| t > from && t <= to;
    let pulses: Vec<u64> = edges
        .iter()
        .filter(|(l, _)| mode.counts(*l))
        .map(|(_, t)| *t)
        .collect();
    let periods = pulses
        .windows(2)
        .filter(|w| inside(w[1]))
        .map(|w| w[1] - w[0])
        .collect();
    let widths = |ending: u8| {
        edges
            .windows(2)
            .filter(|w| w[1].0 == ending && inside(w[1].1))
            .map(|w| w[1].1 - w[0].1)
            .collect()
    };
    Expected {
        pulses: pulses.iter().filter(|t| inside(**t)).count() as u64,
        periods,
        highs: widths(0),
        lows: widths(1),
    }
}

fn spread(v: &[u64]) -> Option<(u64, u64, f64)> {
    let min = *v.iter().min()?;
    let max = *v.iter().max()?;
    Some((min, max, v.iter().sum::<u64>() as f64 / v.len() as f64))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #[test]
    fn metrics_match_the_reference(
        s in signal(),
        mode in mode(),
        glitch in prop_oneof![Just(0u64), 1u64..=20],
        lockout in prop_oneof![Just(0u64), 1u64..=30],
        interval in 20u64..=300,
        ppu in prop_oneof![Just(1.0f64), Just(1000.0), Just(0.5)],
    ) {
        let settings = PinSettings::unlimited(FilterSettings {
            glitch_us: glitch,
            lockout_us: lockout,
            ..FilterSettings::default()
        });
        // The real path: VCD → filters → meter.
        let (initial, raw) = through_vcd(&s);
        prop_assert_eq!(initial, s.levels[0]);
        let end = s.t0 + s.levels.len() as u64 - 1;
        let mut filter = PinFilter::new(PIN, settings, initial);
        let mut filtered = Vec::new();
        for e in &raw {
            filter.push(*e, &mut filtered);
        }
        filter.advance(end, &mut filtered);
        // The reference: the dense signal through the naive filters.
        let dense = r::chain(&s.levels, s.t0, &settings);
        let want_edges = r::edges_of(&dense, s.t0);
        let have_edges: Vec<(u8, u64)> = filtered.iter().map(|e| (e.level, e.t_us)).collect();
        prop_assert_eq!(&have_edges, &want_edges);

        let config = MeterConfig {
            count: mode,
            pulses_per_unit: ppu,
            interval_s: 1,
            ..MeterConfig::default()
        };
        let mut m = Meter::new(PIN, config, 7);
        m.set_level(initial);
        // Intervals of `interval` µs, each closed once every edge up to its end was pushed
        // (when a boundary falls is `poll`'s business, tested on its own).
        prop_assert!(m.poll(s.t0).is_some());
        let mut pushed = 0;
        let mut from = s.t0;
        let mut total = 7u64;
        while from < end {
            let to = from + interval;
            while pushed < filtered.len() && filtered[pushed].t_us <= to {
                m.push(&filtered[pushed]);
                pushed += 1;
            }
            let want = expected(&want_edges, mode, from, to);
            total += want.pulses;
            let have = m.finish(to);
            prop_assert_eq!(have.pulses, total);
            prop_assert!(close(have.total, total as f64 / ppu));
            let measured = want.pulses >= 2 && !want.periods.is_empty();
            match (have.period_us, measured.then(|| spread(&want.periods)).flatten()) {
                (None, None) => prop_assert!(have.frequency_hz.is_none()),
                (Some(p), Some((min, max, avg))) => {
                    prop_assert_eq!((p.min, p.max), (min, max));
                    prop_assert!(close(p.avg, avg));
                    let f = have.frequency_hz.expect("frequency with periods");
                    prop_assert!(close(f, 1e6 / avg));
                }
                (have, want) => prop_assert!(false, "periods {:?} vs {:?}", have, want),
            }
            let highs = if want.pulses >= 2 { spread(&want.highs) } else { None };
            prop_assert_eq!(have.high_us.map(|h| (h.min, h.max)), highs.map(|h| (h.0, h.1)));
            if let (Some(h), Some(w)) = (have.high_us, highs) {
                prop_assert!(close(h.avg, w.2));
            }
            let duty = match (spread(&want.highs), spread(&want.lows)) {
                (Some(h), Some(l)) if want.pulses >= 2 && h.2 + l.2 > 0.0 => {
                    Some(h.2 / (h.2 + l.2))
                }
                _ => None,
            };
            match (have.duty, duty) {
                (None, None) => {}
                (Some(a), Some(b)) => prop_assert!(close(a, b), "duty {} vs {}", a, b),
                (a, b) => prop_assert!(false, "duty {:?} vs {:?}", a, b),
            }
            from = to;
        }
    }
}
