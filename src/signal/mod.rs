//! Signal generators: synthetic pin waveforms for the demo, tests and the emulator.
//!
//! Each generator adds its pin to a [`TraceBuilder`]; [`demo`] combines three of them into the
//! signal the demo configuration replays, and [`write_vcd`] saves any trace as a VCD file.

mod bounce;
mod pulse;
pub mod rng;
mod sensor;

#[cfg(test)]
mod tests;

pub use bounce::BouncingSwitch;
pub use pulse::PulseTrain;
pub use rng::SplitMix64;
pub use sensor::SlowSensor;

use crate::vcd::{Trace, TraceBuilder, VcdError, FS_PER_US};
use std::io::Write;

/// GPIO of the demo's bouncing door switch.
pub const DEMO_DOOR_PIN: u8 = 17;
/// GPIO of the demo's 1 kHz pulse train.
pub const DEMO_PULSE_PIN: u8 = 18;
/// GPIO of the demo's slow sensor.
pub const DEMO_SENSOR_PIN: u8 = 27;

/// The demo signal, `duration_s` long: a bouncing door switch on GPIO 17 (toggled every 1–2 s),
/// a 1 kHz 50 % pulse train on GPIO 18 and a slow sensor on GPIO 27. Always the same signal.
pub fn demo(duration_s: u64) -> Trace {
    let end_us = duration_s.saturating_mul(1_000_000);
    let mut b = TraceBuilder::new();
    BouncingSwitch::new(DEMO_DOOR_PIN, 0x5EED_0017).add_to(&mut b, end_us);
    PulseTrain::new(DEMO_PULSE_PIN, 1_000.0).add_to(&mut b, u128::from(end_us) * FS_PER_US);
    SlowSensor::new(DEMO_SENSOR_PIN, 0x5EED_0027).add_to(&mut b, end_us);
    b.end_at(u128::from(end_us) * FS_PER_US);
    b.build()
}

/// Writes `trace` as a VCD file whose wires `gpio<N>` the replay sampler reads back exactly.
pub fn write_vcd(trace: &Trace, out: impl Write) -> Result<(), VcdError> {
    crate::vcd::write_trace(trace, out).map(drop)
}
