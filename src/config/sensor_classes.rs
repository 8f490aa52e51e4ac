//! Home Assistant's sensor device classes that edgetap may publish, with the units and state
//! classes Home Assistant accepts for each: an excerpt of `DEVICE_CLASS_UNITS` and
//! `DEVICE_CLASS_STATE_CLASSES` in home-assistant/core
//! `homeassistant/components/sensor/const.py` (units from `homeassistant/const.py`). Home
//! Assistant logs and ignores a unit its device class does not list, so config validation and
//! the discovery tests hold every sensor config against this table.

/// One sensor device class: the units and state classes Home Assistant accepts with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorClass {
    /// The `device_class`.
    pub name: &'static str,
    /// `unit_of_measurement` values accepted.
    pub units: &'static [&'static str],
    /// `state_class` values accepted.
    pub state_classes: &'static [&'static str],
}

const MEASUREMENT: &[&str] = &["measurement"];
const TOTALS: &[&str] = &["total", "total_increasing"];
const ANY: &[&str] = &["measurement", "total", "total_increasing"];

/// `UnitOfEnergy`.
const ENERGY: &[&str] = &[
    "J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal",
];
/// `UnitOfVolume`.
const VOLUME: &[&str] = &["ft³", "CCF", "m³", "L", "mL", "gal", "fl. oz."];
/// `UnitOfVolumeFlowRate`.
const VOLUME_FLOW_RATE: &[&str] = &[
    "m³/h", "m³/s", "ft³/min", "L/h", "L/min", "L/s", "gal/min", "mL/s",
];
/// `UnitOfInformation`.
const INFORMATION: &[&str] = &[
    "bit", "kbit", "Mbit", "Gbit", "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB", "KiB",
    "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB",
];

/// The table (see the module documentation).
pub const SENSOR_CLASSES: &[SensorClass] = &[
    SensorClass {
        name: "data_size",
        units: INFORMATION,
        state_classes: ANY,
    },
    SensorClass {
        name: "duration",
        units: &["d", "h", "min", "s", "ms"],
        state_classes: ANY,
    },
    SensorClass {
        name: "energy",
        units: ENERGY,
        state_classes: TOTALS,
    },
    SensorClass {
        name: "frequency",
        units: &["Hz", "kHz", "MHz", "GHz"],
        state_classes: MEASUREMENT,
    },
    SensorClass {
        name: "gas",
        units: &["CCF", "ft³", "m³"],
        state_classes: TOTALS,
    },
    SensorClass {
        name: "power",
        units: &["W", "kW", "MW", "GW", "TW"],
        state_classes: MEASUREMENT,
    },
    SensorClass {
        name: "precipitation",
        units: &["in", "mm", "cm"],
        state_classes: ANY,
    },
    SensorClass {
        name: "precipitation_intensity",
        units: &["in/d", "in/h", "mm/d", "mm/h"],
        state_classes: MEASUREMENT,
    },
    SensorClass {
        name: "volume",
        units: VOLUME,
        state_classes: TOTALS,
    },
    SensorClass {
        name: "volume_flow_rate",
        units: VOLUME_FLOW_RATE,
        state_classes: MEASUREMENT,
    },
    SensorClass {
        name: "water",
        units: &["CCF", "ft³", "m³", "gal", "L"],
        state_classes: TOTALS,
    },
];

/// The entry of `device_class`, if edgetap knows it.
pub fn sensor_class(device_class: &str) -> Option<&'static SensorClass> {
    SENSOR_CLASSES.iter().find(|c| c.name == device_class)
}

/// Whether Home Assistant accepts a sensor of `device_class` in `unit` with `state_class`.
pub fn accepts(device_class: &str, unit: &str, state_class: &str) -> bool {
    sensor_class(device_class)
        .is_some_and(|c| c.units.contains(&unit) && c.state_classes.contains(&state_class))
}

/// The device class of a meter's total in `unit` (state class `total_increasing`): `energy`
/// for energy, `water` for the volumes a water meter reads (`gas` must be asked for),
/// `volume` for the others, `precipitation` for a depth, none for anything else.
pub fn total_device_class(unit: &str) -> Option<&'static str> {
    ["energy", "water", "volume", "precipitation"]
        .into_iter()
        .find(|c| accepts(c, unit, "total_increasing"))
}

/// The device class of a meter's rate in `rate_unit` (state class `measurement`): `power`,
/// `volume_flow_rate`, `precipitation_intensity`, or none.
pub fn rate_device_class(rate_unit: &str) -> Option<&'static str> {
    ["power", "volume_flow_rate", "precipitation_intensity"]
        .into_iter()
        .find(|c| accepts(c, rate_unit, "measurement"))
}
