//! Edge chunks → reported edges: the per-pin filters, fed by any source of edges. A sampler's
//! blocks reach it through [`BlockDecoder`](super::decoding::BlockDecoder); a source that
//! delivers edge events builds the [`EdgeChunk`]s itself and joins here.

use crate::config::{ChangeSet, InputConfig};
use crate::edges::filter::{FilterBank, PinSettings};
use crate::edges::{Edge, EdgeChunk, PinLevel, RateLimited};

use super::BlockEvents;

/// Per-pin filters, fed chunk by chunk.
#[derive(Debug)]
pub struct Filtering {
    inputs: Vec<(u8, PinSettings)>,
    /// Built by the first chunk's initial levels.
    filters: Option<FilterBank>,
    /// Edges dropped by the rate limits in the last chunk, per pin.
    limited: Vec<RateLimited>,
    last_sample_us: Option<u64>,
    /// The raw (unfiltered) level of each started pin at `last_sample_us` (bit n = GPIO n), for
    /// pins refiltered between chunks.
    raw: u64,
}

impl Filtering {
    /// Filters for `inputs`, started by the first chunk's initial levels.
    pub fn new(inputs: &[InputConfig]) -> Self {
        Filtering {
            inputs: inputs.iter().map(|i| (i.pin, settings_of(i))).collect(),
            filters: None,
            limited: Vec::new(),
            last_sample_us: None,
            raw: 0,
        }
    }

    /// Switches to `inputs` between two chunks, rebuilding only the pins `changes` names: `added`
    /// are the added pins whose current raw level the source knows (they start at it; the others
    /// start with a later chunk's initial levels), removed pins stop, refiltered pins get a fresh
    /// filter, pins with a new rate limit only a fresh limiter (their other filters keep their
    /// state). Untouched pins keep their filter state, so none of their edges is lost.
    ///
    /// A refiltered pin whose current raw level differs from what it last reported gets that
    /// change reported now (appended to `out`), so the published level stays true; so does a
    /// change the old limiter was holding back. Returns the levels of the added pins it started
    /// (state, not edges).
    pub fn reconfigure(
        &mut self,
        inputs: &[InputConfig],
        changes: &ChangeSet,
        added: &[PinLevel],
        out: &mut Vec<Edge>,
    ) -> Vec<PinLevel> {
        self.inputs = inputs.iter().map(|i| (i.pin, settings_of(i))).collect();
        let (Some(filters), Some(now)) = (self.filters.as_mut(), self.last_sample_us) else {
            // Nothing filtered yet: the first chunk builds the filters from `inputs`.
            return Vec::new();
        };
        let raw = |pin: u8| (self.raw >> pin & 1) as u8;
        let input = |pin: u8| inputs.iter().find(|i| i.pin == pin);
        let settings = |pin: u8| input(pin).map(settings_of);
        for &pin in &changes.pins_removed {
            filters.remove_input(pin);
        }
        let mut started = Vec::new();
        for &level in added {
            let Some(s) = settings(level.pin) else {
                continue;
            };
            if filters.set_input(level.pin, s, level.level).is_ok() {
                started.push(level);
            }
        }
        for &pin in &changes.filters_changed {
            if filters.filter(pin).is_none() {
                continue; // not started yet: starts with a later chunk, with these settings
            }
            let Some(s) = settings(pin) else { continue };
            let reported = filters.filter(pin).map(|f| f.level());
            if filters.set_input(pin, s, raw(pin)).is_ok() && reported != Some(raw(pin)) {
                out.push(Edge {
                    pin,
                    level: raw(pin),
                    t_us: now,
                    after_gap: false,
                });
            }
        }
        for &pin in &changes.limits_changed {
            if changes.filters_changed.contains(&pin) || filters.filter(pin).is_none() {
                continue; // already rebuilt whole, with its new limit, or not started yet
            }
            if let Some(i) = input(pin) {
                filters.set_rate_limit(pin, i.max_edges_per_s, out);
            }
        }
        for level in &started {
            self.set_raw(*level);
        }
        started
    }

    /// The pins of `mask` now read inverted (their `invert` changed): their last raw level
    /// flips with them, so a refiltered pin restarts from its new logical level.
    pub fn flip_raw(&mut self, mask: u64) {
        self.raw ^= mask;
    }

    /// Edges each pin's rate limit dropped while filtering the last chunk (pin order; pins with
    /// none left out).
    pub fn rate_limited(&self) -> &[RateLimited] {
        &self.limited
    }

    /// UTC µs up to which the signal has been filtered.
    pub fn last_sample_us(&self) -> Option<u64> {
        self.last_sample_us
    }

    /// Nothing arrived this time: no rate-limit counts to report.
    pub fn idle(&mut self) {
        self.limited.clear();
    }

    /// Filters `chunk`, appending the reported edges to `out`.
    pub fn process(&mut self, chunk: &EdgeChunk, out: &mut Vec<Edge>) -> BlockEvents {
        self.limited.clear();
        let mut events = BlockEvents {
            initial: None,
            gap: chunk.gap,
        };
        if let Some(initial) = &chunk.initial {
            let started = match self.filters.as_mut() {
                None => {
                    self.filters = Some(FilterBank::new(&self.inputs, initial));
                    initial.clone()
                }
                Some(filters) => initial
                    .iter()
                    .copied()
                    .filter(|l| {
                        let s = self
                            .inputs
                            .iter()
                            .find(|(p, _)| *p == l.pin)
                            .map(|(_, s)| *s);
                        s.is_some_and(|s| filters.set_input(l.pin, s, l.level).is_ok())
                    })
                    .collect(),
            };
            for &level in initial {
                self.set_raw(level);
            }
            events.initial = Some(started);
        }
        let Some(filters) = self.filters.as_mut() else {
            // No levels to start from yet: nothing can be filtered.
            return events;
        };
        for &e in &chunk.edges {
            self.raw = self.raw & !(1u64 << (e.pin & 63)) | u64::from(e.level & 1) << (e.pin & 63);
            filters.push(e, out);
        }
        filters.advance(chunk.until_us, out);
        filters.take_rate_limited(&mut self.limited);
        self.last_sample_us = Some(chunk.until_us);
        events
    }

    fn set_raw(&mut self, l: PinLevel) {
        let bit = 1u64 << (l.pin & 63);
        self.raw = self.raw & !bit | if l.level & 1 == 1 { bit } else { 0 };
    }
}

/// What shapes an input's reported edges, from its config.
fn settings_of(input: &InputConfig) -> PinSettings {
    PinSettings {
        filter: input.filter(),
        max_edges_per_s: input.max_edges_per_s,
    }
}

#[cfg(test)]
#[path = "filtering_tests.rs"]
mod tests;
