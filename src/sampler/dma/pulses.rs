//! The loopback selftest's arithmetic, pure: the pulses it drives, and how the pulses the
//! sampler captured compare with the pulses that were driven (missed, extra, timing error).

/// Widths of the driven pulses, in sample periods, widest first: down to one period, the
/// shortest pulse a sampler at that period is sure to see.
pub const WIDTHS: [u64; 4] = [20, 5, 2, 1];
/// µs added to every width: a pulse of exactly one period holds exactly one sample only if
/// neither its edges nor the samples move at all; a write or a sample a fraction of a µs off
/// (the engine's bus contention, the CPU's write, the emulator's control-block steps) would
/// lose it, and that is not the fault the check looks for.
pub const WIDTH_MARGIN_US: u64 = 1;
/// Pulses of each width.
pub const REPEATS: u64 = 10;
/// Shortest low time between two pulses (µs): longer than any error the check accepts, so a
/// captured pulse is never closer to a neighbour than to its own.
const MIN_GAP_US: u64 = 50;
/// µs added to the error bound on top of two sample periods: the tick → UTC estimate and the
/// CPU's write to GPSET/GPCLR.
pub const SLACK_US: u64 = 5;

/// One pulse to drive: high for `width_us`, then low for at least `gap_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Time high (µs).
    pub width_us: u64,
    /// Time low after it (µs).
    pub gap_us: u64,
}

/// The pulses to drive at sample period `period_us`: [`REPEATS`] of each of [`WIDTHS`] (plus
/// [`WIDTH_MARGIN_US`]). The gaps
/// vary by up to a period, so the pulses start at every phase of the sampling.
pub fn schedule(period_us: u32) -> Vec<Planned> {
    let p = u64::from(period_us.max(1));
    WIDTHS
        .iter()
        .flat_map(|&w| {
            let width_us = w * p + WIDTH_MARGIN_US;
            (0..REPEATS).map(move |k| Planned {
                width_us,
                gap_us: (4 * width_us).max(10 * p).max(MIN_GAP_US) + k % p,
            })
        })
        .collect()
}

/// µs the schedule takes when every wait is exact.
pub fn schedule_us(plan: &[Planned]) -> u64 {
    plan.iter().map(|p| p.width_us + p.gap_us).sum()
}

/// The largest timing error accepted (µs): a sample sees an edge up to one period late, one
/// more period covers the engine's jitter, plus [`SLACK_US`].
pub fn error_bound_us(period_us: u32) -> u64 {
    2 * u64::from(period_us) + SLACK_US
}

/// A pulse as driven: host UTC µs read just before the write that set the pin, and before the
/// one that cleared it. `timed` is false when a write took too long to trust its time (the
/// driver was preempted between the clock read and the write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Driven {
    /// µs of the rising edge.
    pub rise_us: u64,
    /// µs of the falling edge.
    pub fall_us: u64,
    /// Whether both edges' times can be trusted.
    pub timed: bool,
}

/// A pulse as captured: the times of the first samples showing it high and low again; `fall_us`
/// is None when the pin was still high at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Captured {
    /// µs of the rising edge.
    pub rise_us: u64,
    /// µs of the falling edge.
    pub fall_us: Option<u64>,
}

/// Pulses in one pin's edges `(µs, level)` (in time order): each rise with the fall after it. A
/// fall with no rise before it (the pin started high) starts nothing.
pub fn captured(edges: impl IntoIterator<Item = (u64, bool)>) -> Vec<Captured> {
    let mut out: Vec<Captured> = Vec::new();
    let mut open = false;
    for (t, high) in edges {
        match (high, open) {
            (true, false) => {
                out.push(Captured {
                    rise_us: t,
                    fall_us: None,
                });
                open = true;
            }
            (false, true) => {
                if let Some(c) = out.last_mut() {
                    c.fall_us = Some(t);
                }
                open = false;
            }
            _ => {}
        }
    }
    out
}

/// How the captured pulses compare with the driven ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Pulses driven.
    pub driven: usize,
    /// Indices of the driven pulses no captured pulse matches (or whose capture never fell).
    pub missed: Vec<usize>,
    /// Captured pulses that match no driven pulse, or a pulse already matched.
    pub extra: usize,
    /// Captured − driven time of each edge of the matched, timed pulses (µs).
    pub errors_us: Vec<i64>,
}

impl Comparison {
    /// Pulses seen.
    pub fn seen(&self) -> usize {
        self.driven - self.missed.len()
    }
}

/// Matches each captured pulse to the driven pulse whose rise is nearest to its own; a driven
/// pulse nothing matches is missed, a second match of one is extra.
pub fn compare(driven: &[Driven], captured: &[Captured]) -> Comparison {
    let mut matched: Vec<Option<Captured>> = vec![None; driven.len()];
    let mut extra = 0;
    for c in captured {
        let Some(k) = nearest(driven, c.rise_us) else {
            extra += 1;
            continue;
        };
        match &mut matched[k] {
            slot @ None => *slot = Some(*c),
            Some(_) => extra += 1,
        }
    }
    let mut missed = Vec::new();
    let mut errors_us = Vec::new();
    for (k, (d, m)) in driven.iter().zip(&matched).enumerate() {
        match m {
            Some(Captured {
                rise_us,
                fall_us: Some(fall_us),
            }) => {
                if d.timed {
                    errors_us.push(*rise_us as i64 - d.rise_us as i64);
                    errors_us.push(*fall_us as i64 - d.fall_us as i64);
                }
            }
            _ => missed.push(k),
        }
    }
    Comparison {
        driven: driven.len(),
        missed,
        extra,
        errors_us,
    }
}

/// Index of the driven pulse whose rise is nearest to `t` (the driven pulses in time order).
fn nearest(driven: &[Driven], t: u64) -> Option<usize> {
    let i = driven.partition_point(|d| d.rise_us <= t);
    let before = i.checked_sub(1);
    let after = (i < driven.len()).then_some(i);
    match (before, after) {
        (Some(b), Some(a)) => {
            if t - driven[b].rise_us <= driven[a].rise_us - t {
                Some(b)
            } else {
                Some(a)
            }
        }
        (b, a) => b.or(a),
    }
}

/// Mean (signed), 99th percentile and maximum (of the magnitude) of timing errors, µs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorStats {
    /// Mean of the signed errors: the sampler's lag (half a period when all is well).
    pub mean_us: f64,
    /// 99th percentile of |error|.
    pub p99_us: u64,
    /// Largest |error|.
    pub max_us: u64,
}

/// The statistics of `errors_us`; None when there is none.
pub fn error_stats(errors_us: &[i64]) -> Option<ErrorStats> {
    if errors_us.is_empty() {
        return None;
    }
    let mean_us = errors_us.iter().sum::<i64>() as f64 / errors_us.len() as f64;
    let mut abs: Vec<u64> = errors_us.iter().map(|e| e.unsigned_abs()).collect();
    abs.sort_unstable();
    let rank = (abs.len() * 99).div_ceil(100).max(1);
    Some(ErrorStats {
        mean_us,
        p99_us: abs[rank - 1],
        max_us: abs[abs.len() - 1],
    })
}

#[cfg(test)]
#[path = "pulses_tests.rs"]
mod tests;
