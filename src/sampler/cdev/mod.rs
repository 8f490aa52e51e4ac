//! The GPIO character-device backend (`sampler.backend = "cdev"`): one line request for all
//! watched pins, both edges, kernel timestamps. Works on every Pi (the Pi 5 included) and any
//! Linux board.
//!
//! This file is the thin shell: it picks the chip, makes the request and reads records. What
//! they mean is decided by pure parts: [`event`] decodes the records, [`clock`] maps their
//! timestamps to UTC, [`assemble`] turns them into [`EdgeChunk`]s with gaps for what the kernel
//! dropped; the request itself is planned by [`crate::hw::lineplan`].

pub mod assemble;
pub mod clock;
pub mod event;

use std::time::Duration;

use tracing::{info, warn};

use crate::edges::{EdgeChunk, PinLevel};
use crate::hw::chipselect::{self, ChipInfo};
use crate::hw::clock::{monotonic_ns, HostClock, SystemClock};
use crate::hw::gpiochip::{self, LineRequest};
use crate::hw::lineplan::{self, LineSpec, RequestPlan};
use crate::shutdown::Shutdown;

use super::edges::EdgeSource;
use super::{SamplerConfig, SamplerCounters, SamplerError};
use assemble::Assembler;
use clock::EventTimes;
use event::LineEvent;

/// How long one wait for events lasts: a quiet input still yields a chunk this often, so
/// batches close on time and shutdown is noticed.
const POLL: Duration = Duration::from_millis(10);

/// Edge events from a GPIO chip.
pub struct CdevSource {
    chip: ChipInfo,
    plan: RequestPlan,
    /// `None` between [`EdgeSource::release`] and [`EdgeSource::reacquire`].
    request: Option<LineRequest>,
    /// Levels read by the last request, and when, for the next chunk.
    fresh: Option<(Vec<(u8, u8)>, u64)>,
    times: EventTimes,
    assembler: Assembler,
    events: Vec<LineEvent>,
    /// `sampler.cdev.event_buffer_size` and the summed rate limits it is sized from when unset.
    buffer: (Option<u32>, u64),
}

impl CdevSource {
    /// Opens the chip `s.cdev.chip` names (or the board's header chip) and requests `lines`;
    /// `max_edges_per_s` (the inputs' summed rate limits) sizes the event buffer when
    /// `sampler.cdev.event_buffer_size` is unset.
    pub fn open(
        s: &SamplerConfig,
        lines: &[LineSpec],
        max_edges_per_s: u64,
    ) -> Result<CdevSource, SamplerError> {
        let wanted = match &s.cdev.chip {
            Some(c) => c.clone(),
            None => default_chip()?,
        };
        let chips = gpiochip::chips()?;
        let chip = chipselect::choose(&wanted, &chips)
            .map_err(|reason| settings("sampler.cdev.chip", reason))?
            .clone();
        let buffer = (s.cdev.event_buffer_size, max_edges_per_s);
        let plan = plan(lines, s.cdev.event_clock, buffer);
        chipselect::check_offsets(&chip, &plan.offsets())
            .map_err(|reason| settings("inputs[].pin", reason))?;
        let mut source = CdevSource {
            chip,
            plan,
            request: None,
            fresh: None,
            times: EventTimes::new(s.cdev.event_clock),
            assembler: Assembler::new(),
            events: Vec::new(),
            buffer,
        };
        source.request()?;
        info!(
            chip = %source.chip.path.display(),
            label = %source.chip.label,
            lines = source.plan.lines.len(),
            event_buffer = source.plan.event_buffer,
            event_clock = s.cdev.event_clock.name(),
            "GPIO character device requested"
        );
        Ok(source)
    }

    /// Requests the plan's lines and reads their levels (handed on with the next chunk).
    fn request(&mut self) -> Result<(), SamplerError> {
        self.request = None; // the lines are released before they are asked for again
        let req = LineRequest::open(&self.chip.path, &self.plan, self.plan.event_buffer as usize)?;
        let levels = req
            .levels()?
            .into_iter()
            .filter_map(|(offset, level)| Some((u8::try_from(offset).ok()?, level)))
            .collect();
        self.fresh = Some((levels, SystemClock.utc_us()));
        self.request = Some(req);
        Ok(())
    }

    /// Measures the monotonic → UTC offset again when it is due.
    fn measure_clock(&mut self) {
        if !self.times.due(monotonic_ns()) {
            return;
        }
        // The tightest of three brackets: a preemption in one does not skew the offset.
        let best = (0..3)
            .map(|_| {
                let before = SystemClock.utc_us();
                let mono = monotonic_ns();
                (before, mono, SystemClock.utc_us())
            })
            .min_by_key(|(b, _, a)| a.saturating_sub(*b));
        if let Some((before, mono, after)) = best {
            self.times.estimate(before, mono, after);
        }
    }
}

impl EdgeSource for CdevSource {
    fn next_chunk(
        &mut self,
        chunk: &mut EdgeChunk,
        shutdown: &Shutdown,
    ) -> Result<bool, SamplerError> {
        if shutdown.is_triggered() {
            return Ok(false);
        }
        self.measure_clock();
        if let Some((levels, at)) = self.fresh.take() {
            self.assembler.requested(&levels, at);
        }
        self.events.clear();
        let Some(req) = self.request.as_mut() else {
            // No lines held: nothing can be vouched for; the next request reports the gap.
            std::thread::sleep(POLL);
            chunk.clear();
            chunk.until_us = self.assembler.vouched_us();
            return Ok(true);
        };
        if req.wait(POLL)? {
            let bytes = req.read()?;
            event::decode_all(bytes, &mut self.events)
                .map_err(|e| SamplerError::Io(std::io::Error::other(e)))?;
        }
        let before = self.assembler.counters();
        let times = &self.times;
        self.assembler.chunk(
            &self.events,
            |ns| times.utc_us(ns),
            SystemClock.utc_us(),
            chunk,
        );
        let after = self.assembler.counters();
        if after.overflows > before.overflows {
            warn!(
                edges_lost = after.edges_lost - before.edges_lost,
                event_buffer = self.plan.event_buffer,
                "GPIO event buffer overflowed: edges lost (raise sampler.cdev.event_buffer_size)"
            );
        }
        Ok(true)
    }

    fn rewatch(&mut self, lines: &[LineSpec]) -> Result<(), SamplerError> {
        let new = plan(lines, self.plan.clock, self.buffer);
        if new == self.plan {
            return Ok(());
        }
        chipselect::check_offsets(&self.chip, &new.offsets())
            .map_err(|reason| settings("inputs[].pin", reason))?;
        let old = std::mem::replace(&mut self.plan, new);
        match self.request.as_mut() {
            Some(req) if old.same_lines(&self.plan) => {
                // Flags only (bias, polarity, debounce): the lines stay requested.
                if let Err(e) = req.reconfigure(&self.plan) {
                    self.plan = old;
                    return Err(e.into());
                }
                Ok(())
            }
            _ => match self.request() {
                Ok(()) => Ok(()),
                Err(e) => {
                    // The old config stays in force: so do its lines, if they can be had again.
                    self.plan = old;
                    if let Err(again) = self.request() {
                        warn!(error = %again, "the previous GPIO lines could not be requested again");
                    }
                    Err(e)
                }
            },
        }
    }

    fn take_over(&mut self, levels: &[PinLevel], until_us: Option<u64>) {
        self.assembler.take_over(levels, until_us.unwrap_or(0));
    }

    fn release(&mut self) {
        self.request = None;
    }

    fn reacquire(&mut self) -> Result<(), SamplerError> {
        self.request()
    }

    fn model(&self) -> String {
        format!("{} ({})", self.chip.label, self.chip.path.display())
    }

    fn counters(&self) -> SamplerCounters {
        SamplerCounters {
            overruns: self.assembler.counters().overflows,
            ..SamplerCounters::default()
        }
    }
}

/// The request for `lines`: its event buffer from `sampler.cdev.event_buffer_size`, or sized for
/// the summed rate limits.
fn plan(
    lines: &[LineSpec],
    clock: lineplan::EventClock,
    (configured, rate): (Option<u32>, u64),
) -> RequestPlan {
    RequestPlan {
        lines: lines.to_vec(),
        clock,
        event_buffer: lineplan::event_buffer_size(configured, rate, lines.len()),
    }
}

/// The label of this Pi's header chip, from the board detection.
fn default_chip() -> Result<String, SamplerError> {
    let (soc, _model) = crate::hw::board::identify(std::path::Path::new("/")).map_err(|e| {
        settings(
            "sampler.cdev.chip",
            format!("not set, and the board is not one whose GPIO chip is known ({e}): name it by path or label"),
        )
    })?;
    Ok(chipselect::header_label(soc).to_string())
}

fn settings(field: &str, reason: String) -> SamplerError {
    SamplerError::Settings {
        field: field.into(),
        reason,
    }
}
