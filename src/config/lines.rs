//! What the character-device backend asks the kernel for each input, and which filters edgetap
//! still runs itself when the kernel debounces.

use super::error::Refusals;
use super::{Backend, Config, InputConfig, Pull};
use crate::hw::lineplan::{EventClock, LineBias, LineSpec, MAX_LINES};

impl Config {
    /// Whether the kernel runs the inputs' glitch filters (`sampler.cdev.kernel_debounce` on
    /// the `cdev` backend): edgetap's own glitch filter then stays off.
    pub fn kernel_debounces(&self) -> bool {
        self.sampler.backend == Backend::Cdev && self.sampler.cdev.kernel_debounce
    }

    /// The inputs as edgetap's own filters see them: without `glitch_us` when the kernel
    /// debounces (it would otherwise be applied twice).
    pub fn filter_inputs(&self) -> Vec<InputConfig> {
        let kernel = self.kernel_debounces();
        self.inputs
            .iter()
            .map(|i| InputConfig {
                glitch_us: if kernel { 0 } else { i.glitch_us },
                ..i.clone()
            })
            .collect()
    }

    /// Each watched line and the flags the character device requests it with.
    pub fn line_specs(&self) -> Vec<LineSpec> {
        let kernel = self.kernel_debounces();
        self.inputs.iter().map(|i| line_spec(i, kernel)).collect()
    }

    /// The inputs' rate limits summed (0 = unlimited counts as the per-pin maximum): the
    /// fastest the character device is expected to deliver.
    pub fn max_edges_per_s(&self) -> u64 {
        self.inputs
            .iter()
            .map(|i| match i.max_edges_per_s {
                0 => u64::from(super::inputs::MAX_EDGES_PER_S),
                n => u64::from(n),
            })
            .sum()
    }
}

/// The one place an input's settings become the flags of its line request: `pull` → `bias`
/// (`keep` leaves the line's bias as it is). `invert` is not `active_low`: inversion runs in
/// the pipeline for every source alike, so the kernel reports electrical levels as GPLEV does.
pub(super) fn line_spec(input: &InputConfig, kernel_debounce: bool) -> LineSpec {
    LineSpec {
        offset: u32::from(input.pin),
        bias: match input.pull {
            Pull::Up => Some(LineBias::PullUp),
            Pull::Down => Some(LineBias::PullDown),
            Pull::None => Some(LineBias::Disabled),
            Pull::Keep => None,
        },
        active_low: false,
        // Validation keeps glitch_us within u32 when the kernel debounces.
        debounce_us: if kernel_debounce {
            u32::try_from(input.glitch_us).unwrap_or(u32::MAX)
        } else {
            0
        },
    }
}

/// The rules that tie the inputs to the character-device backend.
pub(super) fn validate(c: &Config, r: &mut Refusals) {
    if c.sampler.backend != Backend::Cdev {
        return;
    }
    r.check(
        c.inputs.len() <= MAX_LINES,
        "inputs",
        format!(
            "{} inputs: one GPIO line request holds at most {MAX_LINES} lines",
            c.inputs.len()
        ),
    );
    if !c.kernel_debounces() {
        return;
    }
    if let Some((i, input)) = c.inputs.iter().enumerate().find(|(_, i)| i.glitch_us > 0) {
        r.check(
            c.sampler.cdev.event_clock != EventClock::Hte,
            "sampler.cdev.kernel_debounce",
            format!(
                "inputs[{i}] (pin {}) would be debounced by the kernel's software debouncer, \
                 whose events carry no hardware timestamps: with event_clock = \"hte\" leave \
                 kernel_debounce off (edgetap's glitch filter runs instead)",
                input.pin
            ),
        );
    }
    for (i, input) in c.inputs.iter().enumerate() {
        r.check(
            input.glitch_us <= u64::from(u32::MAX),
            &format!("inputs[{i}].glitch_us"),
            format!(
                "{} µs is longer than the kernel's debounce_period_us holds (sampler.cdev.kernel_debounce)",
                input.glitch_us
            ),
        );
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
