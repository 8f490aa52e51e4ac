//! The replay sampler: samples a VCD signal at a fixed period, shaped exactly like DMA blocks.
//!
//! Sample k is taken at VCD time `k·period` and stamped `t0_us + k·period` (UTC µs). The level
//! of a sample includes changes at exactly its instant, as a DMA read after the edge would.

use super::{Block, LevelWords, ReplayConfig, Sampler, SamplerError};
use crate::shutdown::Shutdown;
use crate::vcd::{self, Cursor, Trace, FS_PER_US};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Replays a [`Trace`] as sample blocks, once or in a loop, paced to the wall clock or not.
#[derive(Debug)]
pub struct ReplaySampler {
    cursor: Cursor,
    period_us: u32,
    period_fs: u128,
    block_samples: u32,
    words: LevelWords,
    realtime: bool,
    loop_: bool,
    start_us: Option<u64>,
    /// Samples per pass over the trace (see [`ReplaySampler::from_trace`]).
    pass_len: u64,
    /// Next sample number on the continuous time axis.
    k: u64,
    /// Next sample number within the current pass.
    j: u64,
    /// UTC µs of sample 0, fixed when the first block is produced.
    t0_us: Option<u64>,
    /// Monotonic time of the first block, for realtime pacing.
    started: Option<Instant>,
}

impl ReplaySampler {
    /// Reads the VCD file named by `cfg.signal` and replays it with `cfg`'s settings.
    pub fn open(
        cfg: &ReplayConfig,
        period_us: u32,
        block_samples: u32,
        words: LevelWords,
    ) -> Result<Self, SamplerError> {
        Self::from_trace(Self::load(cfg)?, cfg, period_us, block_samples, words)
    }

    /// Reads and parses the VCD file named by `cfg.signal`.
    pub fn load(cfg: &ReplayConfig) -> Result<Trace, SamplerError> {
        let trace = vcd::read_file(&cfg.signal).map_err(|source| SamplerError::Signal {
            path: cfg.signal.display().to_string(),
            source,
        })?;
        tracing::info!(
            path = %cfg.signal.display(),
            changes = trace.changes().len(),
            end_us = %(trace.end_fs() / FS_PER_US),
            "replay: signal loaded"
        );
        Ok(trace)
    }

    /// Replays `trace` with `cfg`'s settings (`cfg.signal` is not read).
    ///
    /// Without looping, samples cover VCD time 0 through the trace end inclusive. With looping,
    /// a pass is the end time rounded up to whole periods (at least one) and the next pass starts
    /// over at VCD time 0 on the same, gapless time axis.
    pub fn from_trace(
        trace: Trace,
        cfg: &ReplayConfig,
        period_us: u32,
        block_samples: u32,
        words: LevelWords,
    ) -> Result<Self, SamplerError> {
        if period_us == 0 {
            return Err(settings("sampler.period_us", "must be at least 1 µs"));
        }
        if block_samples == 0 {
            return Err(settings("sampler.block_samples", "must be at least 1"));
        }
        if words == LevelWords::One && trace.pins() >> 32 != 0 {
            tracing::warn!("replay: the signal drives GPIO 32+ but only GPLEV0 is sampled");
        }
        let period_fs = u128::from(period_us) * FS_PER_US;
        let end = trace.end_fs();
        let pass_len = if cfg.loop_ {
            end.div_ceil(period_fs).max(1)
        } else {
            end / period_fs + 1
        };
        Ok(ReplaySampler {
            cursor: trace.cursor(),
            period_us,
            period_fs,
            block_samples,
            words,
            realtime: cfg.realtime,
            loop_: cfg.loop_,
            start_us: cfg.start_us,
            pass_len: u64::try_from(pass_len).unwrap_or(u64::MAX),
            k: 0,
            j: 0,
            t0_us: None,
            started: None,
        })
    }

    /// Appends `n` samples of `level` to `levels` in the block's word layout.
    fn push_run(&self, levels: &mut Vec<u32>, level: u64, n: usize) {
        let lo = level as u32;
        match self.words {
            LevelWords::One => levels.resize(levels.len() + n, lo),
            LevelWords::Two => {
                let start = levels.len();
                levels.resize(start + 2 * n, lo);
                let hi = (level >> 32) as u32;
                for pair in levels
                    .get_mut(start..)
                    .unwrap_or(&mut [])
                    .chunks_exact_mut(2)
                {
                    if let [_, h] = pair {
                        *h = hi;
                    }
                }
            }
        }
    }

    /// Fills `levels` with up to `block_samples` samples; returns how many.
    fn fill(&mut self, levels: &mut Vec<u32>) -> u64 {
        let want = u64::from(self.block_samples);
        let mut n = 0u64;
        while n < want {
            if self.j >= self.pass_len {
                if !self.loop_ {
                    break;
                }
                self.cursor.reset();
                self.j = 0;
            }
            let t_fs = u128::from(self.j) * self.period_fs;
            let level = self.cursor.level_at(t_fs);
            // The level holds up to the first sample at or after the next change.
            let until = self.cursor.next_change_fs().map_or(u64::MAX, |c| {
                u64::try_from(c.div_ceil(self.period_fs)).unwrap_or(u64::MAX)
            });
            let run = until
                .saturating_sub(self.j)
                .max(1)
                .min(want - n)
                .min(self.pass_len - self.j);
            self.push_run(levels, level, usize::try_from(run).unwrap_or(0));
            n += run;
            self.j += run;
        }
        n
    }
}

impl Sampler for ReplaySampler {
    fn next_block(&mut self, block: &mut Block, shutdown: &Shutdown) -> Result<bool, SamplerError> {
        if shutdown.is_triggered() || (!self.loop_ && self.j >= self.pass_len) {
            return Ok(false);
        }
        let t0_us = *self
            .t0_us
            .get_or_insert_with(|| self.start_us.unwrap_or_else(now_us));
        let started = *self.started.get_or_insert_with(Instant::now);
        let first = self.k;
        block.levels.clear();
        let n = self.fill(&mut block.levels);
        if n == 0 {
            return Ok(false);
        }
        self.k = self.k.saturating_add(n);
        let period = u64::from(self.period_us);
        block.t0_us = t0_us.saturating_add(first.saturating_mul(period));
        block.period_us = self.period_us;
        block.words = self.words;
        block.lost_before = 0;
        if self.realtime {
            // Not before the last sample of the block would have been taken.
            let last_us = (self.k - 1).saturating_mul(period);
            let due = started.checked_add(Duration::from_micros(last_us));
            let wait = due.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            if !wait.is_zero() && shutdown.sleep(wait) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn period_us(&self) -> u32 {
        self.period_us
    }

    fn words(&self) -> LevelWords {
        self.words
    }

    fn model(&self) -> String {
        "replay".into()
    }
}

fn settings(field: &str, reason: &str) -> SamplerError {
    SamplerError::Settings {
        field: field.into(),
        reason: reason.into(),
    }
}

/// UTC µs now (0 if the clock is before 1970, which only a broken RTC gives).
fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
