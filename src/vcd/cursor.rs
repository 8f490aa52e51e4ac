//! [`Cursor`]: reads a trace's levels at increasing times in amortised O(1) per query.

use super::trace::{apply, Change};
use std::sync::Arc;

/// Sequential reader of a [`super::Trace`]: levels at non-decreasing times.
///
/// It owns a shared handle on the changes (no borrow), so a sampler or the emulated board can
/// keep it next to the trace. Asking for an earlier time than before is allowed but rescans from
/// the start.
#[derive(Debug, Clone)]
pub struct Cursor {
    initial: u64,
    changes: Arc<[Change]>,
    /// Index of the first change not yet applied.
    next: usize,
    /// Levels with changes `..next` applied.
    level: u64,
    /// The latest time asked for.
    at_fs: u128,
}

impl Cursor {
    /// A cursor at time 0 over `changes` (sorted by time) starting from `initial`.
    pub(crate) fn new(initial: u64, changes: Arc<[Change]>) -> Self {
        Cursor {
            initial,
            changes,
            next: 0,
            level: initial,
            at_fs: 0,
        }
    }

    /// Back to time 0 (used when a replay loops).
    pub fn reset(&mut self) {
        self.next = 0;
        self.level = self.initial;
        self.at_fs = 0;
    }

    /// The levels at `t_fs` (bit n = GPIO n), including changes at exactly `t_fs`.
    pub fn level_at(&mut self, t_fs: u128) -> u64 {
        if t_fs < self.at_fs {
            self.reset();
        }
        self.at_fs = t_fs;
        while let Some(c) = self.changes.get(self.next) {
            if c.t_fs > t_fs {
                break;
            }
            self.level = apply(self.level, c);
            self.next += 1;
        }
        self.level
    }

    /// Time of the first change after the latest time asked for: levels are constant until then.
    pub fn next_change_fs(&self) -> Option<u128> {
        self.changes.get(self.next).map(|c| c.t_fs)
    }
}
