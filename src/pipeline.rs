//! The pure middle of the data flow for one run of a sampler: decode a block, then filter.
//!
//! The same chain serves `run` (which batches and publishes) and `capture` (which writes a file),
//! so both see exactly the same edges.

use crate::block::Block;
use crate::config::{ChangeSet, InputConfig};
use crate::edges::decode::Decoder;
use crate::edges::filter::{FilterBank, PinSettings};
use crate::edges::{Edge, Gap, PinLevel, RateLimited};

/// What a block produced besides its edges.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BlockEvents {
    /// Levels of pins that start being reported with this block: every watched pin on the
    /// first block; later, pins added while the sampler did not read their level word yet (a pin
    /// above 31 added to 1-word samples). State, not edges.
    pub initial: Option<Vec<PinLevel>>,
    /// Samples lost just before this block.
    pub gap: Option<Gap>,
}

/// Decoder plus per-pin filters, fed block by block.
#[derive(Debug)]
pub struct Pipeline {
    decoder: Decoder,
    inputs: Vec<(u8, PinSettings)>,
    filters: Option<FilterBank>,
    raw: Vec<Edge>,
    /// Edges dropped by the rate limits in the last block, per pin.
    limited: Vec<RateLimited>,
    last_sample_us: Option<u64>,
    /// The raw last sample (bit n = GPIO n), for pins added or rebuilt between blocks.
    last_word: Option<u64>,
    /// Level words per sample of the last block: bits beyond them in `last_word` are unknown.
    last_words: usize,
    /// Pins added whose level the last block could not show: they start with the next block.
    pending: Vec<u8>,
    /// The sampler was restarted: the next block starts after a gap.
    restarted: bool,
}

impl Pipeline {
    /// A pipeline watching `inputs` with their filters.
    pub fn new(inputs: &[InputConfig]) -> Self {
        Pipeline {
            decoder: Decoder::new(inputs.iter().map(|i| i.pin)),
            inputs: inputs.iter().map(|i| (i.pin, settings_of(i))).collect(),
            filters: None,
            raw: Vec::new(),
            limited: Vec::new(),
            last_sample_us: None,
            last_word: None,
            last_words: 0,
            pending: Vec::new(),
            restarted: false,
        }
    }

    /// The sampler was restarted (new settings): the next block is reported after a gap, with
    /// the samples the restart skipped (0 when its time axis continues seamlessly).
    pub fn mark_restart(&mut self) {
        self.restarted = true;
    }

    /// Switches to `inputs` between two blocks, rebuilding only the pins `changes` names: added
    /// pins start at their current raw level, removed pins stop, refiltered pins get a fresh
    /// filter, pins with a new rate limit only a fresh limiter (their other filters keep their
    /// state). Untouched pins keep their filter state, so none of their edges is lost.
    ///
    /// A refiltered pin whose current raw level differs from what it last reported gets that
    /// change reported now (appended to `out`), so the published level stays true; so does a
    /// change the old limiter was holding back. Returns the levels of the added pins (state, not
    /// edges).
    pub fn reconfigure(
        &mut self,
        inputs: &[InputConfig],
        changes: &ChangeSet,
        out: &mut Vec<Edge>,
    ) -> Vec<PinLevel> {
        self.inputs = inputs.iter().map(|i| (i.pin, settings_of(i))).collect();
        self.decoder
            .rewatch(inputs.iter().map(|i| i.pin), self.last_word);
        let (Some(filters), Some(word), Some(now)) =
            (self.filters.as_mut(), self.last_word, self.last_sample_us)
        else {
            // Nothing sampled yet: the first block builds the filters from `inputs`.
            return Vec::new();
        };
        let raw = |pin: u8| (word >> pin & 1) as u8;
        let input = |pin: u8| inputs.iter().find(|i| i.pin == pin);
        let settings = |pin: u8| input(pin).map(settings_of);
        for &pin in &changes.pins_removed {
            filters.remove_input(pin);
        }
        self.pending.retain(|p| !changes.pins_removed.contains(p));
        let mut added = Vec::new();
        for &pin in &changes.pins_added {
            let Some(s) = settings(pin) else { continue };
            if usize::from(pin) >= 32 * self.last_words {
                // Its word was not sampled: its level comes with the next block, not as a 0.
                self.pending.push(pin);
                continue;
            }
            if filters.set_input(pin, s, raw(pin)).is_ok() {
                added.push(PinLevel {
                    pin,
                    level: raw(pin),
                });
            }
        }
        for &pin in &changes.filters_changed {
            if self.pending.contains(&pin) {
                continue; // starts with the next block, with these settings
            }
            let Some(s) = settings(pin) else { continue };
            let reported = filters.filter(pin).map(|f| f.level());
            if filters.set_input(pin, s, raw(pin)).is_ok() && reported != Some(raw(pin)) {
                out.push(Edge {
                    pin,
                    level: raw(pin),
                    t_us: now,
                });
            }
        }
        for &pin in &changes.limits_changed {
            if changes.filters_changed.contains(&pin) || self.pending.contains(&pin) {
                continue; // already rebuilt whole, with its new limit
            }
            if let Some(i) = input(pin) {
                filters.set_rate_limit(pin, i.max_edges_per_s, out);
            }
        }
        added
    }

    /// Edges each pin's rate limit dropped while processing the last block (pin order; pins
    /// with none left out).
    pub fn rate_limited(&self) -> &[RateLimited] {
        &self.limited
    }

    /// UTC µs of the last sample processed.
    pub fn last_sample_us(&self) -> Option<u64> {
        self.last_sample_us
    }

    /// Decodes and filters `block`, appending the reported edges to `out`.
    pub fn process(&mut self, block: &Block, out: &mut Vec<Edge>) -> BlockEvents {
        let mut events = BlockEvents::default();
        self.limited.clear();
        let n = block.samples();
        if n == 0 {
            return events;
        }
        if block.lost_before > 0 || self.restarted {
            if let Some(from_us) = self.last_sample_us {
                // After a restart the new sampler cannot know what it skipped: estimate it from
                // the time between the last sample before and the first after.
                let skipped = (block.t0_us.saturating_sub(from_us)
                    / u64::from(block.period_us.max(1)))
                .saturating_sub(1);
                events.gap = Some(Gap {
                    from_us,
                    to_us: block.t0_us,
                    samples: block
                        .lost_before
                        .max(if self.restarted { skipped } else { 0 }),
                });
            }
            self.restarted = false;
        }
        if self.filters.is_none() {
            // The first sample ever seen is the initial state: reported as levels, not edges.
            let initial = self.decoder.levels_in(block.sample(0));
            self.filters = Some(FilterBank::new(&self.inputs, &initial));
            events.initial = Some(initial);
        }
        if !self.pending.is_empty() {
            events.initial = Some(self.start_pending(block.sample(0)));
        }
        self.raw.clear();
        self.decoder.decode(block, &mut self.raw);
        let Some(filters) = self.filters.as_mut() else {
            return events;
        };
        for &e in &self.raw {
            filters.push(e, out);
        }
        let last = block.time_of(n - 1);
        filters.advance(last, out);
        filters.take_rate_limited(&mut self.limited);
        self.last_sample_us = Some(last);
        self.last_word = Some(block.sample(n - 1));
        self.last_words = block.words.count();
        events
    }

    /// Starts the pending pins at their level in `first` (the first sample of the block about
    /// to be decoded), so that sample is their state, not an edge; returns those levels.
    fn start_pending(&mut self, first: u64) -> Vec<PinLevel> {
        let pending = std::mem::take(&mut self.pending);
        let mask = pending.iter().fold(0u64, |m, &p| m | 1 << p);
        let last = self.last_word.map(|w| w & !mask | first & mask);
        self.decoder
            .rewatch(self.inputs.iter().map(|(pin, _)| *pin), last);
        self.last_word = last;
        let mut levels = Vec::new();
        for pin in pending {
            let level = (first >> pin & 1) as u8;
            let settings = self.inputs.iter().find(|(p, _)| *p == pin).map(|(_, s)| *s);
            if let (Some(s), Some(filters)) = (settings, self.filters.as_mut()) {
                if filters.set_input(pin, s, level).is_ok() {
                    levels.push(PinLevel { pin, level });
                }
            }
        }
        levels
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
#[path = "pipeline_tests.rs"]
mod tests;
