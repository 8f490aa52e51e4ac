use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn energy_to_power_is_per_hour() {
    assert!(close(rate_factor("kWh", "kW").unwrap(), 3600.0));
    assert!(close(rate_factor("Wh", "W").unwrap(), 3600.0));
    assert!(close(rate_factor("Wh", "kW").unwrap(), 3.6));
    assert!(close(rate_factor("kWh", "W").unwrap(), 3.6e6));
}

#[test]
fn amounts_per_time() {
    assert!(close(rate_factor("L", "L/min").unwrap(), 60.0));
    assert!(close(rate_factor("m³", "L/min").unwrap(), 60_000.0));
    assert!(close(rate_factor("L", "m³/h").unwrap(), 3.6));
    assert!(close(rate_factor("mm", "mm/h").unwrap(), 3600.0));
    assert!(close(rate_factor("pulses", "pulses/s").unwrap(), 1.0));
    assert!(close(rate_factor("kWh", "kWh/h").unwrap(), 3600.0));
}

#[test]
fn units_that_do_not_fit_are_refused() {
    assert_eq!(rate_factor("L", "kW"), None);
    assert_eq!(rate_factor("kWh", "L/min"), None);
    assert_eq!(rate_factor("L", "L/week"), None);
    assert_eq!(rate_factor("pulses", "rev/min"), None);
    assert_eq!(rate_factor("L", "L"), None);
}

#[test]
fn every_default_rate_unit_fits_its_unit() {
    for unit in [
        "kWh", "MWh", "Wh", "J", "L", "mL", "m³", "ft³", "CCF", "gal", "mm", "cm", "in", "pulses",
        "rev",
    ] {
        let rate = default_rate_unit(unit);
        assert!(rate_factor(unit, &rate).is_some(), "{unit} → {rate}");
    }
}
