//! Meters and watchdogs: pure state machines over one input's filtered edges (after the
//! filters, on the signal's own time axis), asked for their messages with an explicit clock
//! argument. Nothing here reads a clock, does I/O or knows MQTT; the sampling thread feeds them
//! and a thin shell (`presence::totals`) keeps the totals in `state_dir`.
//!
//! * [`units`]: the units of a total and of its rate, and the factor between them.
//! * [`counter`]: [`Meter`], one input's pulse count, rate and interval metrics.
//! * [`watchdog`]: [`Watchdog`], one event per silence of an input.
//! * [`bank`]: [`Meters`], the meters and watchdogs of all inputs, kept across config changes.

pub mod bank;
pub mod counter;
pub mod settings;
pub mod units;
pub mod watchdog;

pub use bank::{MeterEvent, MeterInput, Meters};
pub use counter::{Meter, MeterReading, Spread};
pub use settings::{CountMode, MeterConfig};
pub use watchdog::{Watchdog, WatchdogEvent};
