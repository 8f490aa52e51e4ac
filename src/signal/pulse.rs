//! A periodic pulse train (square wave at any duty cycle).

use crate::vcd::TraceBuilder;

/// A pulse train on one pin: high for `duty` of every period, shifted by `phase`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PulseTrain {
    /// GPIO driven.
    pub pin: u8,
    /// Period in femtoseconds (see [`PulseTrain::new`] to give a frequency instead).
    pub period_fs: u128,
    /// Fraction of the period spent high, 0–1.
    pub duty: f64,
    /// Fraction of a period the wave is advanced by at time 0, 0–1 (0: a rising edge at 0).
    pub phase: f64,
}

impl PulseTrain {
    /// A 50 % duty, zero-phase train at `freq_hz` (non-positive or NaN: constant low).
    pub fn new(pin: u8, freq_hz: f64) -> Self {
        let period = 1e15 / freq_hz;
        PulseTrain {
            pin,
            // `as` saturates; NaN and negatives become 0, which means "no pulses".
            period_fs: if period.is_finite() {
                period.round() as u128
            } else {
                0
            },
            duty: 0.5,
            phase: 0.0,
        }
    }

    /// The same train with another duty cycle.
    pub fn duty(self, duty: f64) -> Self {
        PulseTrain { duty, ..self }
    }

    /// The same train with another phase.
    pub fn phase(self, phase: f64) -> Self {
        PulseTrain { phase, ..self }
    }

    /// Adds the initial level and every edge in `(0, end_fs]` to `b`.
    pub fn add_to(&self, b: &mut TraceBuilder, end_fs: u128) {
        let p = self.period_fs;
        let frac = |x: f64| (p as f64 * x.clamp(0.0, 1.0)).round() as u128;
        let high = frac(self.duty).min(p);
        if p == 0 || high == 0 || high == p {
            // A constant level: nothing toggles.
            b.initial(self.pin, u8::from(p != 0 && high == p));
            return;
        }
        let ph = frac(self.phase.rem_euclid(1.0)) % p;
        b.initial(self.pin, u8::from(ph < high));
        // Cycle n rises at n·p − ph and falls `high` later.
        let mut rise = p - ph;
        let mut fall = if ph < high { high - ph } else { p - ph + high };
        loop {
            let next = rise.min(fall);
            if next > end_fs {
                break;
            }
            if rise < fall {
                b.change(rise, self.pin, 1);
                rise += p;
            } else {
                b.change(fall, self.pin, 0);
                fall += p;
            }
        }
    }
}
