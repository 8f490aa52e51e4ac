//! One input's meter: counts pulses (the edges its count mode names, after the filters), keeps
//! the total, and at every interval boundary measures the interval exactly from the edge
//! timestamps.
//!
//! Metrics of an interval come from the edges inside it:
//! * a *period* is the time between two consecutive pulses; every period that ends in the
//!   interval counts (so consecutive intervals tile the time);
//! * a *high width* is the time from a rise to the next fall, counted in the interval of the
//!   fall; a low width likewise;
//! * `frequency_hz` = periods ÷ their sum; `duty` = mean high width ÷ (mean high width + mean
//!   low width), so one unpaired phase at either end of the interval does not tilt it. All are
//!   `None` when the interval saw fewer than two pulses.
//!
//! No measurement spans lost samples: a [`Gap`] (or an edge marked `after_gap`) ends every
//! open period and width, so the next one starts at the first edge after it.
//!
//! The rate (pulses per second, converted to the rate unit by the caller's factor) is the
//! interval's frequency, bounded by `1 / time since the last pulse` so that a meter that stops
//! decays towards 0 rather than repeating its last value; with fewer than two pulses in the
//! interval the last known rate is kept under that bound. After the watchdog fired it is 0.

use super::settings::MeterConfig;
use super::units::rate_factor;
use crate::edges::{Edge, Gap};

/// Minimum, mean and maximum of some durations (µs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Shortest.
    pub min: u64,
    /// Mean.
    pub avg: f64,
    /// Longest.
    pub max: u64,
}

/// What a meter reports at an interval boundary (the `gpio/<pin>/meter` message).
#[derive(Debug, Clone, PartialEq)]
pub struct MeterReading {
    /// BCM GPIO number.
    pub pin: u8,
    /// UTC µs (signal time) of the boundary.
    pub t_us: u64,
    /// Pulses counted since the counter was created (or last reset), persisted.
    pub pulses: u64,
    /// `pulses / pulses_per_unit`.
    pub total: f64,
    /// Unit of `total`.
    pub unit: String,
    /// The rate in `rate_unit`.
    pub rate: f64,
    /// Unit of `rate`.
    pub rate_unit: String,
    /// Pulses per second measured over the interval; `None` below two pulses.
    pub frequency_hz: Option<f64>,
    /// Periods between pulses ending in the interval.
    pub period_us: Option<Spread>,
    /// High widths ending in the interval.
    pub high_us: Option<Spread>,
    /// Mean high width ÷ (mean high + mean low width) over the interval.
    pub duty: Option<f64>,
}

/// Running min/sum/max of durations.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Acc {
    fn add(&mut self, d: u64) {
        if self.n == 0 {
            self.min = d;
            self.max = d;
        } else {
            self.min = self.min.min(d);
            self.max = self.max.max(d);
        }
        self.n += 1;
        self.sum += u128::from(d);
    }

    fn spread(&self) -> Option<Spread> {
        (self.n > 0).then(|| Spread {
            min: self.min,
            avg: self.sum as f64 / self.n as f64,
            max: self.max,
        })
    }
}

/// What one interval collected.
#[derive(Debug, Clone, Copy, Default)]
struct Interval {
    pulses: u64,
    periods: Acc,
    high: Acc,
    low: Acc,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Meter {
    pin: u8,
    config: MeterConfig,
    /// Rate unit in force and the factor from pulses per second to it.
    rate_unit: String,
    factor: f64,
    pulses: u64,
    /// Level last seen (`None` until the first edge or initial level).
    level: Option<u8>,
    /// Time of the last pulse, while no gap has happened since.
    last_pulse_us: Option<u64>,
    /// Time of the last pulse ever (bounds the rate), gaps or not.
    any_pulse_us: Option<u64>,
    /// Time of the last edge, while no gap has happened since.
    last_edge_us: Option<u64>,
    interval: Interval,
    /// The last period measured, if it ended in the current interval.
    last_period_us: Option<u64>,
    /// Next boundary (`None`: the first poll reports at once and starts the intervals).
    next_us: Option<u64>,
    /// The rate (pulses per second) last computed and the one last reported.
    rate_pps: f64,
    reported_rate: Option<f64>,
    /// The watchdog fired and no pulse came since: the rate reads 0.
    silent: bool,
    /// Report at the next poll whatever happened (a reset, new settings).
    due: bool,
}

impl Meter {
    /// A meter of `pin` with `config`, starting at `pulses`.
    pub fn new(pin: u8, config: MeterConfig, pulses: u64) -> Self {
        let rate_unit = config.rate_unit();
        let factor = rate_factor(&config.unit, &rate_unit).unwrap_or(1.0);
        Meter {
            pin,
            config,
            rate_unit,
            factor,
            pulses,
            level: None,
            last_pulse_us: None,
            any_pulse_us: None,
            last_edge_us: None,
            interval: Interval::default(),
            last_period_us: None,
            next_us: None,
            rate_pps: 0.0,
            reported_rate: None,
            silent: false,
            due: false,
        }
    }

    /// The pulses counted.
    pub fn pulses(&self) -> u64 {
        self.pulses
    }

    /// The settings in force.
    pub fn config(&self) -> &MeterConfig {
        &self.config
    }

    /// Takes new settings, keeping the count and the measurements under way; the next poll
    /// reports. A new interval length starts counting from the next poll.
    pub fn set_config(&mut self, config: MeterConfig) {
        let mut new = Meter::new(self.pin, config, self.pulses).keep_state(self);
        if new.config.interval_s != self.config.interval_s {
            new.next_us = None;
        }
        new.due = true;
        *self = new;
    }

    fn keep_state(mut self, old: &Meter) -> Self {
        self.level = old.level;
        self.last_pulse_us = old.last_pulse_us;
        self.any_pulse_us = old.any_pulse_us;
        self.last_edge_us = old.last_edge_us;
        self.interval = old.interval;
        self.last_period_us = old.last_period_us;
        self.next_us = old.next_us;
        self.rate_pps = old.rate_pps;
        self.reported_rate = old.reported_rate;
        self.silent = old.silent;
        self
    }

    /// Sets the total to zero (an explicit reset); the next poll reports.
    pub fn reset(&mut self) {
        self.pulses = 0;
        self.due = true;
    }

    /// The level of the input when it starts being reported (state, not a pulse).
    pub fn set_level(&mut self, level: u8) {
        self.level = Some(level);
    }

    /// Samples were lost: no period or width spans them.
    pub fn gap(&mut self, _gap: &Gap) {
        self.last_pulse_us = None;
        self.last_edge_us = None;
    }

    /// The watchdog fired: the rate reads 0 until the next pulse.
    pub fn silence(&mut self) {
        self.silent = true;
        self.rate_pps = 0.0;
    }

    /// A filtered edge of this input.
    pub fn push(&mut self, e: &Edge) {
        if self.level == Some(e.level) {
            return; // not a change (a filter rebuild re-reported the same level)
        }
        if e.after_gap {
            self.last_pulse_us = None;
            self.last_edge_us = None;
        }
        if let (Some(before), Some(level)) = (self.last_edge_us, self.level) {
            let width = e.t_us.saturating_sub(before);
            if level == 1 {
                self.interval.high.add(width);
            } else {
                self.interval.low.add(width);
            }
        }
        if self.config.count.counts(e.level) {
            self.pulses += 1;
            self.interval.pulses += 1;
            if let Some(before) = self.last_pulse_us {
                let period = e.t_us.saturating_sub(before);
                self.interval.periods.add(period);
                self.last_period_us = Some(period);
            }
            self.last_pulse_us = Some(e.t_us);
            self.any_pulse_us = Some(e.t_us);
            self.silent = false;
        }
        self.level = Some(e.level);
        self.last_edge_us = Some(e.t_us);
    }

    /// The reading due at `now_us` (signal time): the first poll reports at once; then one per
    /// interval boundary passed, when the interval saw pulses, the rate changed, or a reset or
    /// new settings asked for one. Boundaries missed (a long gap) collapse into one.
    pub fn poll(&mut self, now_us: u64) -> Option<MeterReading> {
        let interval_us = self.config.interval_s.max(1) * 1_000_000;
        let Some(next) = self.next_us else {
            self.next_us = Some(now_us + interval_us);
            self.due = false;
            let reading = self.close(now_us);
            self.reported_rate = Some(reading.rate);
            return Some(reading);
        };
        if now_us < next {
            return None;
        }
        let behind = (now_us - next) / interval_us;
        self.next_us = Some(next + (behind + 1) * interval_us);
        let pulsed = self.interval.pulses > 0;
        let due = std::mem::take(&mut self.due);
        let reading = self.close(now_us);
        let changed = self.reported_rate != Some(reading.rate);
        (pulsed || changed || due).then(|| {
            self.reported_rate = Some(reading.rate);
            reading
        })
    }

    /// The reading of the interval under way at `now_us`, closing it (a clean stop).
    pub fn finish(&mut self, now_us: u64) -> MeterReading {
        self.close(now_us)
    }

    /// Ends the interval at `now_us` and says what it saw.
    fn close(&mut self, now_us: u64) -> MeterReading {
        let iv = std::mem::take(&mut self.interval);
        let measured = iv.pulses >= 2 && iv.periods.n > 0;
        let frequency_hz = measured.then(|| iv.periods.n as f64 * 1e6 / iv.periods.sum as f64);
        let base = match (frequency_hz, iv.pulses, self.last_period_us) {
            (Some(f), _, _) => f,
            (None, 1, Some(p)) if p > 0 => 1e6 / p as f64,
            _ => self.rate_pps,
        };
        self.last_period_us = None;
        // A meter that stops: no faster than one pulse since the last one.
        let bound = self
            .any_pulse_us
            .filter(|&t| now_us > t)
            .map_or(f64::INFINITY, |t| 1e6 / (now_us - t) as f64);
        self.rate_pps = if self.silent { 0.0 } else { base.min(bound) };
        let mean = |a: &Acc| a.spread().map(|s| s.avg);
        let duty = match (mean(&iv.high), mean(&iv.low)) {
            (Some(h), Some(l)) if iv.pulses >= 2 && h + l > 0.0 => Some(h / (h + l)),
            _ => None,
        };
        let ppu = self.config.pulses_per_unit;
        MeterReading {
            pin: self.pin,
            t_us: now_us,
            pulses: self.pulses,
            total: self.pulses as f64 / ppu,
            unit: self.config.unit.clone(),
            rate: self.rate_pps / ppu * self.factor,
            rate_unit: self.rate_unit.clone(),
            frequency_hz,
            period_us: if measured { iv.periods.spread() } else { None },
            high_us: if iv.pulses >= 2 {
                iv.high.spread()
            } else {
                None
            },
            duty,
        }
    }
}

#[cfg(test)]
#[path = "counter_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "counter_proptests.rs"]
mod proptests;
