//! What the GPIO character device is asked for: one line request for all watched pins, built as
//! plain data first so every flag it carries is unit-tested without a chip.
//!
//! [`gpiochip`](super::gpiochip) hands the [`request_config`] of a [`RequestPlan`] to the kernel;
//! a change of bias, polarity or debounce reconfigures the request in place, a change of the
//! line set makes a new one.

use std::time::Duration;

use gpiocdev::line::{Bias, EdgeDetection, EventClock as CdevClock};
use gpiocdev::request::Config;
use serde::{Deserialize, Serialize};

/// The kernel's ceiling for a request's event buffer (`GPIO_V2_LINES_MAX` × 16): a larger
/// `event_buffer_size` is silently cut to it by gpiolib-cdev.
pub const MAX_EVENT_BUFFER: u32 = 64 * 16;

/// The kernel's limit on lines in one request (`GPIO_V2_LINES_MAX`).
pub const MAX_LINES: usize = 64;

/// Who holds the lines, as `gpioinfo` shows it.
pub const CONSUMER: &str = "edgetap";

/// Which clock the kernel stamps edge events with (`sampler.cdev.event_clock`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventClock {
    /// CLOCK_MONOTONIC: immune to clock steps; mapped to UTC with a re-measured offset.
    #[default]
    Monotonic,
    /// CLOCK_REALTIME: already UTC, but jumps when the wall clock is stepped.
    Realtime,
    /// A hardware timestamp engine (kernel ≥ 5.19 with CONFIG_HTE, e.g. Tegra): nanoseconds on
    /// the monotonic time base, mapped like `monotonic`.
    Hte,
}

impl EventClock {
    /// The name config files use.
    pub fn name(self) -> &'static str {
        match self {
            EventClock::Monotonic => "monotonic",
            EventClock::Realtime => "realtime",
            EventClock::Hte => "hte",
        }
    }
}

/// A line's bias, as asked of the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineBias {
    /// Pull-up enabled.
    PullUp,
    /// Pull-down enabled.
    PullDown,
    /// No pull: the line floats unless driven.
    Disabled,
}

/// One watched line: its offset on the chip and the flags it is requested with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpec {
    /// Line offset on the chip (the BCM GPIO number on a Pi's header chip).
    pub offset: u32,
    /// Bias to set; `None` leaves the line's bias as it is.
    pub bias: Option<LineBias>,
    /// The kernel inverts the line: events and values are reported logically.
    pub active_low: bool,
    /// Kernel debounce (`debounce_period_us`); 0 = none.
    pub debounce_us: u32,
}

impl LineSpec {
    /// A line requested as it is: no bias change, active high, no kernel debounce.
    pub fn plain(offset: u32) -> LineSpec {
        LineSpec {
            offset,
            bias: None,
            active_low: false,
            debounce_us: 0,
        }
    }
}

/// Everything one line request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPlan {
    /// The watched lines, each with its own flags.
    pub lines: Vec<LineSpec>,
    /// The clock events are stamped with.
    pub clock: EventClock,
    /// Events the kernel holds before it drops the oldest (`event_buffer_size`).
    pub event_buffer: u32,
}

impl RequestPlan {
    /// The offsets requested, in plan order.
    pub fn offsets(&self) -> Vec<u32> {
        self.lines.iter().map(|l| l.offset).collect()
    }

    /// Whether `other` asks for the same lines (the request can be reconfigured in place
    /// rather than made anew).
    pub fn same_lines(&self, other: &RequestPlan) -> bool {
        let (mut a, mut b) = (self.offsets(), other.offsets());
        a.sort_unstable();
        b.sort_unstable();
        a == b && self.event_buffer == other.event_buffer
    }
}

/// The request configuration for `plan` on the chip at `chip`: inputs, both edges, the event
/// clock, and each line's bias, polarity and debounce.
pub fn request_config(chip: &std::path::Path, plan: &RequestPlan) -> Config {
    let mut cfg = Config::default();
    cfg.on_chip(chip);
    for line in &plan.lines {
        cfg.with_line(line.offset)
            .as_input()
            .with_edge_detection(EdgeDetection::BothEdges)
            .with_event_clock(match plan.clock {
                EventClock::Monotonic => CdevClock::Monotonic,
                EventClock::Realtime => CdevClock::Realtime,
                EventClock::Hte => CdevClock::Hte,
            })
            .with_bias(line.bias.map(|b| match b {
                LineBias::PullUp => Bias::PullUp,
                LineBias::PullDown => Bias::PullDown,
                LineBias::Disabled => Bias::Disabled,
            }));
        if line.debounce_us > 0 {
            cfg.with_debounce_period(Duration::from_micros(u64::from(line.debounce_us)));
        }
        if line.active_low {
            cfg.as_active_low();
        } else {
            cfg.as_active_high();
        }
    }
    cfg
}

/// The event buffer for a request: `configured` if set, otherwise room for ~100 ms of edges at
/// `max_edges_per_s` (the sum of the inputs' rate limits), at least 16 per line as the
/// kernel's own default; both capped at [`MAX_EVENT_BUFFER`].
pub fn event_buffer_size(configured: Option<u32>, max_edges_per_s: u64, lines: usize) -> u32 {
    let sized = configured.unwrap_or_else(|| {
        let for_100ms = max_edges_per_s.div_ceil(10);
        let floor = 16 * lines as u64;
        u32::try_from(for_100ms.max(floor)).unwrap_or(u32::MAX)
    });
    sized.clamp(1, MAX_EVENT_BUFFER)
}

#[cfg(test)]
#[path = "lineplan_tests.rs"]
mod tests;
