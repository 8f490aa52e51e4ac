//! `edgetap selftest --loopback OUT:IN`: with a jumper wire from OUT to IN, drives OUT with
//! pulses of several widths down to the sample period (GPFSEL, GPSET and GPCLR, through
//! `hw::gpio_out`) while the DMA sampler samples both pins exactly as the agent does; then
//! compares the edges the decoder found with the edges driven: pulses missed or extra on each
//! pin, and the timing error of IN's edges (mean, p99, max) against a bound of two sample
//! periods plus a few µs. Any miss, extra pulse or error above the bound fails.
//!
//! On the emulated board `sampler.emulated.loopback = [[OUT, IN]]` is the wire; the emulator
//! applies the writes on its own time line. OUT gets its previous function back on every way
//! out: the claim's drop, and the signal handlers while it is held.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::hw::clock::HostClock;
use crate::hw::gpio_claim::OutputPin;
use crate::hw::gpio_out::{self, MAX_GPIO};
use crate::hw::mmio::Mapping;
use crate::hw::teardown;
use crate::sampler::{Backend, LevelWords, SamplerConfig};
use crate::shutdown::Shutdown;

use super::loopback_capture::Capture;
use super::pulses::{self, Comparison, Driven, Planned};
use super::selftest::Report;
use super::{source, DmaSampler};

/// The two ends of the jumper wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loopback {
    /// The pin driven.
    pub out: u8,
    /// The pin sampled.
    pub inp: u8,
}

impl FromStr for Loopback {
    type Err = String;

    /// `OUT:IN`, e.g. `18:17`.
    fn from_str(s: &str) -> Result<Loopback, String> {
        let (o, i) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: expected OUT:IN, e.g. 18:17"))?;
        let pin = |p: &str, end: &str| {
            p.trim()
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= MAX_GPIO)
                .ok_or_else(|| format!("{end} {p:?} is not a GPIO number (0-{MAX_GPIO})"))
        };
        let lb = Loopback {
            out: pin(o, "OUT")?,
            inp: pin(i, "IN")?,
        };
        if lb.out == lb.inp {
            return Err(format!(
                "OUT and IN are both GPIO {}: wire two different pins",
                lb.out
            ));
        }
        Ok(lb)
    }
}

/// Sample periods between the first block and the first pulse (at least [`LEAD_MIN_US`]).
const LEAD_PERIODS: u64 = 20;
/// Shortest lead before the first pulse (µs).
const LEAD_MIN_US: u64 = 200;
/// A write whose bracketing clock reads are further apart (µs) is not timed: the driver was
/// preempted between reading the clock and writing, so the time read is not the edge's.
const TIMED_WITHIN_US: u64 = 5;
/// Blocks the capture may take beyond the ones the schedule needs.
const SPARE_BLOCKS: u64 = 8;
/// The most a ring may hold (ms): `sampler.buffer_ms`'s upper limit.
const MAX_RING_MS: u64 = 10_000;

/// Runs the loopback check on the board the `[sampler]` settings name, adding its lines to `r`.
pub fn run(r: &mut Report, s: &SamplerConfig, state_dir: &Path, lb: Loopback) {
    if s.backend == Backend::Replay {
        r.push(
            "loopback",
            false,
            "the loopback selftest needs backend = \"dma\" or \"emulated\"",
        );
        return;
    }
    let src = match source::open(s, &[lb.out, lb.inp]) {
        Ok(src) => src,
        Err(e) => {
            r.push("loopback", false, e.to_string());
            return;
        }
    };
    let base = src.board.periph_base;
    let claimed = gpio_out::map(&src.mem, base).and_then(|gpio| {
        gpio_out::check_input(&gpio, lb.inp)?;
        let view = gpio_out::map(&src.mem, base)?;
        Ok((OutputPin::claim(gpio, lb.out)?, view))
    });
    let (pin, view) = match claimed {
        Ok(c) => c,
        Err(e) => {
            r.push("loopback", false, e.to_string());
            return;
        }
    };
    let was = pin.was();
    sample_pulses(r, src, s, state_dir, lb, &pin);
    drop(pin);
    restored(r, &view, lb.out, was);
}

/// Reports whether `out` has its function `was` back.
fn restored(r: &mut Report, view: &Mapping, out: u8, was: gpio_out::Function) {
    let now = gpio_out::function(view, out);
    r.push(
        "restore",
        now == was,
        format!("GPIO {out} is {now} again (it was {was})"),
    );
}

/// Opens the sampler on `src`, drives the pulses on `pin`, captures and compares.
fn sample_pulses(
    r: &mut Report,
    src: source::Source,
    s: &SamplerConfig,
    state_dir: &Path,
    lb: Loopback,
    pin: &OutputPin,
) {
    let plan = pulses::schedule(s.period_us);
    let period = u64::from(s.period_us);
    let lead_us = (LEAD_PERIODS * period).max(LEAD_MIN_US);
    let settings = SamplerConfig {
        buffer_ms: ring_ms(s, pulses::schedule_us(&plan) + lead_us),
        ..s.clone()
    };
    let clock = src.clock.clone();
    let words = LevelWords::for_pins([lb.out, lb.inp]);
    // No pulls are set: the wire from OUT drives IN, and the pads stay as the user left them.
    let mut sampler = match DmaSampler::open_on(src, &settings, words, &[], state_dir) {
        Ok(sampler) => sampler,
        Err(e) => {
            r.push("sampler", false, e.to_string());
            return;
        }
    };
    let widths: Vec<String> = pulses::WIDTHS
        .iter()
        .map(|w| (w * period + pulses::WIDTH_MARGIN_US).to_string())
        .collect();
    r.push(
        "loopback",
        true,
        format!(
            "GPIO {} -> GPIO {}: {} pulses {} µs wide ({} sample periods, +{} µs each), sampled \
             every {period} µs",
            lb.out,
            lb.inp,
            plan.len(),
            widths.join(", "),
            pulses::WIDTHS.map(|w| w.to_string()).join(", "),
            pulses::WIDTH_MARGIN_US
        ),
    );
    let mut cap = Capture::new([lb.out, lb.inp], words, s.period_us);
    let shutdown = Shutdown::new();
    // The first block: the chain runs, and the levels before any pulse are known.
    if let Err(why) = cap.next(&mut sampler, &shutdown) {
        r.push("capture", false, why);
        return;
    }
    let driven = match drive(pin, &*clock, &plan, lead_us) {
        Ok(d) => d,
        Err(why) => {
            r.push("capture", false, why);
            return;
        }
    };
    let bound = pulses::error_bound_us(s.period_us);
    let first = driven.first().map_or(0, |d| d.rise_us);
    let until = driven.last().map_or(0, |d| d.fall_us) + bound + period;
    let block_us = s.block_us().max(1);
    let budget = until.saturating_sub(cap.end_us) / block_us + SPARE_BLOCKS;
    let mut blocks = 0;
    while cap.end_us <= until {
        if blocks == budget {
            r.push(
                "capture",
                false,
                format!("{blocks} blocks did not reach the end of the pulses"),
            );
            return;
        }
        if let Err(why) = cap.next(&mut sampler, &shutdown) {
            r.push("capture", false, why);
            return;
        }
        blocks += 1;
    }
    drop(sampler);
    r.push(
        "capture",
        cap.lost == 0,
        match cap.lost {
            0 => format!("{} blocks, no sample lost", cap.blocks),
            n => format!(
                "{} blocks, {n} samples lost (an overrun or restart): pulses in the gap were not \
                 sampled",
                cap.blocks
            ),
        },
    );
    let from = first.saturating_sub(bound);
    let out = pulses::compare(&driven, &pulses::captured(cap.pin_edges(lb.out, from)));
    r.push(
        "output",
        out.missed.is_empty() && out.extra == 0,
        format!(
            "GPIO {} itself: {}{}",
            lb.out,
            counts(&out),
            if out.seen() == 0 {
                ": the pin does not follow GPSET/GPCLR"
            } else {
                ""
            }
        ),
    );
    let inp = pulses::compare(&driven, &pulses::captured(cap.pin_edges(lb.inp, from)));
    let hint = if inp.seen() == 0 && out.seen() > 0 {
        format!(
            ": nothing reached GPIO {}; is GPIO {} wired to it?{}",
            lb.inp,
            lb.out,
            if s.backend == Backend::Emulated {
                format!(
                    " (emulated: sampler.emulated.loopback = [[{}, {}]])",
                    lb.out, lb.inp
                )
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    };
    r.push(
        "pulses",
        inp.missed.is_empty() && inp.extra == 0,
        format!("GPIO {}: {}{hint}", lb.inp, counts(&inp)),
    );
    timing(r, &inp, bound, s);
}

/// The report's words for a comparison: pulses seen, missed (with their widths), extra.
fn counts(c: &Comparison) -> String {
    let mut text = format!(
        "{} of {} pulses seen, {} missed, {} extra",
        c.seen(),
        c.driven,
        c.missed.len(),
        c.extra
    );
    if !c.missed.is_empty() {
        let which: Vec<String> = c.missed.iter().map(|k| format!("#{}", k + 1)).collect();
        text.push_str(&format!(" (missed: {})", which.join(" ")));
    }
    text
}

/// Reports IN's timing error against `bound`.
fn timing(r: &mut Report, inp: &Comparison, bound: u64, s: &SamplerConfig) {
    let Some(st) = pulses::error_stats(&inp.errors_us) else {
        r.push("timing", false, "no edge to time");
        return;
    };
    let realtime_emulator =
        s.backend == Backend::Emulated && s.emulated.realtime && s.emulated.mem.is_none();
    let ok = st.max_us <= bound;
    r.push(
        "timing",
        ok,
        format!(
            "edge error mean {:.1} µs, p99 {} µs, max {} µs over {} edges (bound {bound} µs: two \
             sample periods + {} µs){}",
            st.mean_us,
            st.p99_us,
            st.max_us,
            inp.errors_us.len(),
            pulses::SLACK_US,
            if !ok && realtime_emulator {
                "; the realtime emulator looks at the registers only every few hundred µs: \
                 run it with sampler.emulated.realtime = false"
            } else {
                ""
            }
        ),
    );
}

/// The ring the capture needs (ms): the configured one, or more if the pulses take longer
/// than it holds (twice the pulses' time, for waits that overshoot).
fn ring_ms(s: &SamplerConfig, pulses_us: u64) -> u32 {
    let block_us = s.block_us();
    let need_ms = (2 * pulses_us + 4 * block_us).div_ceil(1000);
    u64::from(s.buffer_ms).max(need_ms).min(MAX_RING_MS) as u32
}

/// Drives `plan` on `pin`, the first pulse `lead_us` from now; returns the times of the
/// writes. Each wait runs from the previous write's actual time, so a late write never makes a
/// pulse shorter than planned.
fn drive(
    pin: &OutputPin,
    clock: &dyn HostClock,
    plan: &[Planned],
    lead_us: u64,
) -> Result<Vec<Driven>, String> {
    let mut out = Vec::with_capacity(plan.len());
    let mut next = clock.utc_us() + lead_us;
    for p in plan {
        if teardown::fired() {
            return Err("interrupted by a signal while driving the pulses".into());
        }
        wait_until(clock, next);
        let (rise_us, rise_timed) = write(pin, clock, true);
        wait_until(clock, rise_us + p.width_us);
        let (fall_us, fall_timed) = write(pin, clock, false);
        out.push(Driven {
            rise_us,
            fall_us,
            timed: rise_timed && fall_timed,
        });
        next = fall_us + p.gap_us;
    }
    Ok(out)
}

/// Sets or clears the pin; returns the clock read just before the write, and whether the
/// read just after it came within [`TIMED_WITHIN_US`].
fn write(pin: &OutputPin, clock: &dyn HostClock, high: bool) -> (u64, bool) {
    let before = clock.utc_us();
    pin.drive(high);
    let after = clock.utc_us();
    (before, after.saturating_sub(before) <= TIMED_WITHIN_US)
}

/// Waits until the clock reads `t_us` or later.
fn wait_until(clock: &dyn HostClock, t_us: u64) {
    let now = clock.utc_us();
    if t_us > now {
        clock.wait_exact(Duration::from_micros(t_us - now));
    }
}

#[cfg(test)]
#[path = "loopback_tests.rs"]
mod tests;
