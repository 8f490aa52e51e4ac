//! Units of a meter: the total's unit, the rate's unit, and the factor that turns pulses per
//! second into the rate.
//!
//! `rate = pulses per second ÷ pulses_per_unit × factor(unit, rate_unit)`, where the factor
//! converts "`unit` per second" into `rate_unit`:
//!
//! * a power unit (`mW`, `W`, `kW`, `MW`, `GW`) over an energy unit (`J`, `kJ`, `MJ`, `GJ`,
//!   `mWh`, `Wh`, `kWh`, `MWh`, `GWh`): 1 Wh per hour is 1 W, so `kWh` → `kW` is × 3600 and
//!   `Wh` → `kW` is × 3.6;
//! * `<x>/<t>` with `t` one of `s`, `min`, `h`, `d`, where `x` is the total's own unit or one of
//!   the same kind (volume: `mL`, `L`, `m³`, `ft³`, `CCF`, `gal`, `fl. oz.`; length: `mm`, `cm`,
//!   `m`, `in`; energy as above): `L` → `L/min` is × 60, `m³` → `L/min` is × 60 000, `mm` →
//!   `mm/h` is × 3600, `pulses` → `pulses/min` is × 60.

/// Seconds in each time unit a rate may be expressed per.
const PER: &[(&str, f64)] = &[("s", 1.0), ("min", 60.0), ("h", 3600.0), ("d", 86400.0)];

/// Energy units in Wh.
const ENERGY: &[(&str, f64)] = &[
    ("J", 1.0 / 3600.0),
    ("kJ", 1.0 / 3.6),
    ("MJ", 1000.0 / 3.6),
    ("GJ", 1.0e6 / 3.6),
    ("mWh", 1.0e-3),
    ("Wh", 1.0),
    ("kWh", 1.0e3),
    ("MWh", 1.0e6),
    ("GWh", 1.0e9),
];

/// Power units in W.
const POWER: &[(&str, f64)] = &[
    ("mW", 1.0e-3),
    ("W", 1.0),
    ("kW", 1.0e3),
    ("MW", 1.0e6),
    ("GW", 1.0e9),
];

/// Volume units in L (US gallons and fluid ounces, as Home Assistant assumes).
const VOLUME: &[(&str, f64)] = &[
    ("mL", 1.0e-3),
    ("L", 1.0),
    ("m³", 1.0e3),
    ("ft³", 28.316_846_592),
    ("CCF", 2_831.684_659_2),
    ("gal", 3.785_411_784),
    ("fl. oz.", 0.029_573_529_562_5),
];

/// Length (precipitation depth) units in mm.
const LENGTH: &[(&str, f64)] = &[("mm", 1.0), ("cm", 10.0), ("m", 1000.0), ("in", 25.4)];

/// The kinds of unit that convert into each other.
const KINDS: &[&[(&str, f64)]] = &[ENERGY, VOLUME, LENGTH];

fn scale(table: &[(&str, f64)], unit: &str) -> Option<f64> {
    table.iter().find(|(u, _)| *u == unit).map(|(_, s)| *s)
}

/// The factor from "`unit` per second" to `rate_unit`, or `None` when they do not fit
/// together (see the module documentation).
pub fn rate_factor(unit: &str, rate_unit: &str) -> Option<f64> {
    if let (Some(energy), Some(power)) = (scale(ENERGY, unit), scale(POWER, rate_unit)) {
        return Some(energy * 3600.0 / power);
    }
    let (amount, per) = rate_unit.rsplit_once('/')?;
    let seconds = scale(PER, per)?;
    if amount == unit {
        return Some(seconds);
    }
    KINDS.iter().find_map(|kind| {
        let from = scale(kind, unit)?;
        let to = scale(kind, amount)?;
        Some(from / to * seconds)
    })
}

/// The usual rate unit of a total in `unit`: power for energy (`kWh` → `kW`, `Wh` → `W`),
/// `L/min` for litres, `m³/h` for cubic metres, `mm/h` for millimetres, else `<unit>/min`.
pub fn default_rate_unit(unit: &str) -> String {
    let known = match unit {
        "kWh" | "MWh" | "GWh" => "kW",
        "J" | "kJ" | "MJ" | "GJ" | "mWh" | "Wh" => "W",
        "L" => "L/min",
        "mL" => "mL/s",
        "m³" => "m³/h",
        "ft³" | "CCF" => "ft³/min",
        "gal" => "gal/min",
        "mm" | "cm" => "mm/h",
        "in" => "in/h",
        _ => return format!("{unit}/min"),
    };
    known.into()
}

#[cfg(test)]
#[path = "units_tests.rs"]
mod tests;
