//! Property tests: the edge-driven filters against the dense reference models, plus invariants.
//!
//! Case counts follow proptest's defaults; `PROPTEST_CASES=10000 cargo test --lib edges::` runs
//! a heavier pass.

use super::reference as r;
use super::*;
use crate::edges::PinLevel;
use proptest::prelude::*;
use proptest::sample::Index;

const PIN: u8 = 21;

/// A signal sampled every µs from `t0`, changing only at multiples of a random period.
#[derive(Debug, Clone)]
struct Signal {
    t0: u64,
    levels: Vec<u8>,
}

impl Signal {
    fn edges(&self) -> Vec<(u8, u64)> {
        r::edges_of(&self.levels, self.t0)
    }
}

fn signal() -> impl Strategy<Value = Signal> {
    (
        0u8..=1,
        prop_oneof![0u64..50, 1_000u64..100_000, Just(1_700_000_000_000_000)],
        1u64..=8,
        prop::collection::vec(1u64..=25, 0..40),
        0u64..=100,
    )
        .prop_map(|(first, t0, period, runs, tail)| {
            let mut levels = Vec::new();
            let mut level = first;
            for run in runs {
                levels.extend(std::iter::repeat(level).take((run * period) as usize));
                level = 1 - level;
            }
            levels.extend(std::iter::repeat(level).take(tail as usize + 1));
            Signal { t0, levels }
        })
}

/// A filter time: often 0 (filter off), otherwise up to `max` µs.
fn dur(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 3 => 1..=max]
}

fn filter_settings() -> impl Strategy<Value = FilterSettings> {
    (dur(60), dur(120), dur(60), dur(120)).prop_map(|(g, l, s, a)| FilterSettings {
        glitch_us: g,
        lockout_us: l,
        noise_steady_us: s,
        noise_active_us: a,
    })
}

/// Filters plus a rate limit: with a one-second bucket and signals of a few ms, a limit of a
/// few edges shows as a burst that runs out.
fn settings() -> impl Strategy<Value = PinSettings> {
    (
        filter_settings(),
        prop_oneof![1 => Just(0u32), 2 => 1u32..=12],
    )
        .prop_map(|(filter, r)| PinSettings {
            filter,
            max_edges_per_s: r,
        })
}

/// Where `advance` is called: sample indices, plus whether the run ends with `advance(last)`.
fn advances() -> impl Strategy<Value = (Vec<Index>, bool)> {
    (prop::collection::vec(any::<Index>(), 0..20), any::<bool>())
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Push(Edge),
    Advance(u64),
}

/// The input edges with `advance` calls merged in, and the last sample index the filter knows.
fn ops(sig: &Signal, at: &[Index], last: bool) -> (Vec<Op>, Option<usize>) {
    let n = sig.levels.len();
    let mut adv: Vec<usize> = at.iter().map(|i| i.index(n)).collect();
    if last {
        adv.push(n - 1);
    }
    adv.sort_unstable();
    let mut ops = Vec::new();
    let mut known = None;
    let mut adv = adv.into_iter().peekable();
    for (level, t_us) in sig.edges() {
        let i = (t_us - sig.t0) as usize;
        // advance(a) promises every sample up to a was pushed: it comes after edges at ≤ a.
        while let Some(a) = adv.next_if(|&a| a < i) {
            ops.push(Op::Advance(sig.t0 + a as u64));
            known = known.max(Some(a));
        }
        ops.push(Op::Push(Edge {
            pin: PIN,
            level,
            t_us,
            after_gap: false,
        }));
        known = known.max(Some(i));
    }
    for a in adv {
        ops.push(Op::Advance(sig.t0 + a as u64));
        known = known.max(Some(a));
    }
    (ops, known)
}

fn run_stage<S: Stage>(s: &mut S, ops: &[Op]) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    for &op in ops {
        let mut emit = |e: Edge| {
            assert_eq!(e.pin, PIN);
            out.push((e.level, e.t_us));
        };
        match op {
            Op::Push(e) => s.push(e, &mut emit),
            Op::Advance(t) => s.advance(t, &mut emit),
        }
    }
    out
}

fn run_pin(f: &mut PinFilter, ops: &[Op]) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    for &op in ops {
        match op {
            Op::Push(e) => f.push(e, &mut out),
            Op::Advance(t) => f.advance(t, &mut out),
        }
    }
    assert!(out.iter().all(|e| e.pin == PIN));
    out.iter().map(|e| (e.level, e.t_us)).collect()
}

/// The reference output for what the filter knows: samples up to `known`.
fn expected(
    sig: &Signal,
    known: Option<usize>,
    model: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<(u8, u64)> {
    let Some(k) = known else {
        return Vec::new();
    };
    let out = model(&sig.levels[..=k]);
    assert_eq!(
        out[0], sig.levels[0],
        "reference starts at the initial level"
    );
    r::edges_of(&out, sig.t0)
}

/// Output edges alternate starting away from `initial`, in increasing time, and end at `level`.
fn check_invariants(initial: u8, out: &[(u8, u64)], level: u8) -> Result<(), TestCaseError> {
    let mut prev = initial;
    for w in out.windows(2) {
        prop_assert!(w[0].1 <= w[1].1, "times go back: {:?}", w);
    }
    for &(l, _) in out {
        prop_assert_ne!(l, prev, "level repeated in {:?}", out);
        prev = l;
    }
    prop_assert_eq!(prev, level);
    Ok(())
}

proptest! {
    #[test]
    fn glitch_matches_reference(sig in signal(), g in dur(60), (at, last) in advances()) {
        let (ops, known) = ops(&sig, &at, last);
        let mut f = GlitchFilter::new(PIN, g, sig.levels[0]);
        let got = run_stage(&mut f, &ops);
        prop_assert_eq!(&got, &expected(&sig, known, |s| r::glitch(s, g)));
        check_invariants(sig.levels[0], &got, f.level())?;
    }

    #[test]
    fn lockout_matches_reference(sig in signal(), l in dur(120), (at, last) in advances()) {
        let (ops, known) = ops(&sig, &at, last);
        let mut f = LockoutFilter::new(PIN, l, sig.levels[0]);
        let got = run_stage(&mut f, &ops);
        prop_assert_eq!(&got, &expected(&sig, known, |s| r::lockout(s, l)));
        check_invariants(sig.levels[0], &got, f.level())?;
    }

    #[test]
    fn noise_matches_pigpio_reference(
        sig in signal(),
        steady in dur(60),
        active in 0u64..=120,
        (at, last) in advances(),
    ) {
        let (ops, known) = ops(&sig, &at, last);
        let mut f = NoiseFilter::new(PIN, steady, active, sig.levels[0]);
        let got = run_stage(&mut f, &ops);
        let want = expected(&sig, known, |s| r::noise(s, sig.t0, steady, active));
        prop_assert_eq!(&got, &want);
        check_invariants(sig.levels[0], &got, f.level())?;
    }

    #[test]
    fn rate_limit_matches_reference(
        sig in signal(),
        n in 0u64..=6,
        w in 1u64..=200,
        (at, last) in advances(),
    ) {
        let (ops, known) = ops(&sig, &at, last);
        let mut f = RateLimiter::per_window(PIN, n, w, sig.levels[0]);
        let got = run_stage(&mut f, &ops);
        prop_assert_eq!(&got, &expected(&sig, known, |s| r::rate_limit(s, n, w)));
        check_invariants(sig.levels[0], &got, f.level())?;
        // Every input edge is reported, dropped (and counted) or held back.
        let inputs = known.map_or(0, |k| r::edges_of(&sig.levels[..=k], sig.t0).len());
        let held = usize::from(f.is_holding());
        prop_assert_eq!(inputs, got.len() + f.take_dropped() as usize + held);
    }

    #[test]
    fn new_rate_limit_mid_signal_keeps_levels_true(
        sig in signal(),
        (n, w) in (1u64..=6, 1u64..=200),
        at in any::<Index>(),
        new_limit in 0u32..=3,
    ) {
        let (ops, _) = ops(&sig, &[], true);
        let cut = at.index(ops.len() + 1);
        let mut f = RateLimiter::per_window(PIN, n, w, sig.levels[0]);
        let mut got = run_stage(&mut f, &ops[..cut]);
        f.set_limit(new_limit, &mut |e: Edge| got.push((e.level, e.t_us)));
        got.extend(run_stage(&mut f, &ops[cut..]));
        check_invariants(sig.levels[0], &got, f.level())?;
        let inputs = sig.edges().len();
        let held = usize::from(f.is_holding());
        prop_assert_eq!(inputs, got.len() + f.take_dropped() as usize + held);
    }

    #[test]
    fn glitch_lockout_chain_matches_reference(
        sig in signal(),
        g in dur(60),
        l in dur(120),
        (at, last) in advances(),
    ) {
        let s = PinSettings::unlimited(
            FilterSettings { glitch_us: g, lockout_us: l, ..FilterSettings::default() },
        );
        let (ops, known) = ops(&sig, &at, last);
        let mut f = PinFilter::new(PIN, s, sig.levels[0]);
        let got = run_pin(&mut f, &ops);
        prop_assert_eq!(&got, &expected(&sig, known, |x| r::chain(x, sig.t0, &s)));
        check_invariants(sig.levels[0], &got, f.level())?;
    }

    #[test]
    fn full_chain_matches_reference(sig in signal(), s in settings(), (at, last) in advances()) {
        let (ops, known) = ops(&sig, &at, last);
        let mut f = PinFilter::new(PIN, s, sig.levels[0]);
        let got = run_pin(&mut f, &ops);
        prop_assert_eq!(&got, &expected(&sig, known, |x| r::chain(x, sig.t0, &s)));
        check_invariants(sig.levels[0], &got, f.level())?;
    }

    #[test]
    fn chunking_does_not_change_output(
        sig in signal(),
        s in settings(),
        a in prop::collection::vec(any::<Index>(), 0..30),
        b in prop::collection::vec(any::<Index>(), 0..30),
    ) {
        let run = |at: &[Index]| {
            let (ops, _) = ops(&sig, at, true);
            run_pin(&mut PinFilter::new(PIN, s, sig.levels[0]), &ops)
        };
        let none = run(&[]);
        prop_assert_eq!(&run(&a), &none);
        prop_assert_eq!(&run(&b), &none);
    }

    #[test]
    fn zero_settings_pass_through(sig in signal(), active in 0u64..1000, (at, last) in advances()) {
        let (ops, known) = ops(&sig, &at, last);
        let first = sig.levels[0];
        let want = expected(&sig, known, |x| x.to_vec());
        // pigpio turns the noise filter off when steady is 0, whatever the active time.
        let s = FilterSettings { noise_active_us: active, ..FilterSettings::default() };
        prop_assert!(s.is_passthrough());
        let s = PinSettings::unlimited(s);
        let mut f = PinFilter::new(PIN, s, first);
        prop_assert!(f.is_passthrough());
        prop_assert_eq!(&run_pin(&mut f, &ops), &want);
        prop_assert_eq!(&run_stage(&mut GlitchFilter::new(PIN, 0, first), &ops), &want);
        prop_assert_eq!(&run_stage(&mut LockoutFilter::new(PIN, 0, first), &ops), &want);
        prop_assert_eq!(&run_stage(&mut NoiseFilter::new(PIN, 0, active, first), &ops), &want);
        prop_assert_eq!(&run_stage(&mut RateLimiter::new(PIN, 0, first), &ops), &want);
    }

    #[test]
    fn bank_matches_separate_pin_filters(
        sigs in prop::collection::vec((signal(), settings()), 1..4),
        at in prop::collection::vec(any::<Index>(), 0..10),
    ) {
        // One signal per pin (pins 0, 26, 53), all starting at the same time.
        let pins = [0u8, 26, 53];
        let t0 = sigs[0].0.t0;
        let mut inputs = Vec::new();
        let mut initial = Vec::new();
        let mut all = Vec::new();
        for (k, (sig, s)) in sigs.iter().enumerate() {
            inputs.push((pins[k], *s));
            initial.push(PinLevel { pin: pins[k], level: sig.levels[0] });
            for (level, t) in r::edges_of(&sig.levels, t0) {
                all.push(Edge { pin: pins[k], level, t_us: t, after_gap: false });
            }
            // A watched-by-nobody pin must be dropped without effect.
            all.push(Edge { pin: 40, level: 1, t_us: t0 + 1, after_gap: false });
        }
        all.sort_by_key(|e| e.t_us);
        let end = sigs.iter().map(|(s, _)| s.levels.len() as u64).max().unwrap_or(1) + t0;
        let mut adv: Vec<u64> = at.iter().map(|i| t0 + i.index((end - t0) as usize) as u64).collect();
        adv.sort_unstable();

        let mut bank = FilterBank::new(&inputs, &initial);
        let mut singles: Vec<PinFilter> =
            inputs.iter().zip(&initial).map(|(&(p, s), l)| PinFilter::new(p, s, l.level)).collect();
        let (mut got, mut want) = (Vec::new(), vec![Vec::new(); singles.len()]);
        let mut adv = adv.into_iter().peekable();
        for e in all {
            while let Some(a) = adv.next_if(|&a| a < e.t_us) {
                bank.advance(a, &mut got);
                for (f, w) in singles.iter_mut().zip(want.iter_mut()) {
                    f.advance(a, w);
                }
            }
            bank.push(e, &mut got);
            if let Some(k) = pins.iter().position(|&p| p == e.pin).filter(|&k| k < singles.len()) {
                singles[k].push(e, &mut want[k]);
            }
        }
        bank.advance(end, &mut got);
        for (f, w) in singles.iter_mut().zip(want.iter_mut()) {
            f.advance(end, w);
        }
        for (k, w) in want.iter().enumerate() {
            let mine: Vec<Edge> = got.iter().copied().filter(|e| e.pin == pins[k]).collect();
            prop_assert_eq!(&mine, w);
        }
        prop_assert_eq!(got.len(), want.iter().map(Vec::len).sum::<usize>());
        let levels: Vec<PinLevel> =
            singles.iter().map(|f| PinLevel { pin: f.pin(), level: f.level() }).collect();
        prop_assert_eq!(bank.levels(), levels);
    }
}
