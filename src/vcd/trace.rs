//! [`Trace`]: the pin levels a VCD file (or a signal generator) describes, ready for sampling.

use super::Cursor;
use crate::edges::MAX_PIN;
use std::sync::Arc;

/// Femtoseconds per microsecond: the factor between sample times and trace times.
pub const FS_PER_US: u128 = 1_000_000_000;

/// One level change of one GPIO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Change {
    /// Time in femtoseconds from VCD time 0.
    pub t_fs: u128,
    /// GPIO number (0–53).
    pub pin: u8,
    /// New level: 0 or 1.
    pub level: u8,
}

/// The levels of a set of GPIOs over time.
///
/// Times are femtoseconds as `u128`: every VCD timescale (1 fs to 100 s) is an exact integer
/// number of femtoseconds, so no rounding ever moves a change across a sample instant, and the
/// range (u64 VCD times × 100 s) cannot overflow.
///
/// Invariants (upheld by [`TraceBuilder`]): changes are sorted by time, every change is a real
/// transition (its level differs from the pin's level just before), no change is at time 0 (the
/// level at time 0 is [`Trace::initial`]), and no change is after [`Trace::end_fs`].
/// Two traces are equal when they drive the same pins the same way; wire names do not count.
#[derive(Debug, Clone)]
pub struct Trace {
    pins: u64,
    /// Names of every wire the file declared (GPIO or not), in declaration order.
    wires: Arc<[String]>,
    initial: u64,
    changes: Arc<[Change]>,
    /// Pins at high impedance (`z`) at time 0 (bit n = GPIO n); their level reads 0.
    initial_floating: u64,
    /// When pins start (level 1) and stop (level 0) floating; empty when none ever floats.
    floats: Arc<[Change]>,
    end_fs: u128,
}

impl PartialEq for Trace {
    fn eq(&self, other: &Self) -> bool {
        (
            self.pins,
            self.initial,
            &self.changes,
            self.initial_floating,
            &self.floats,
            self.end_fs,
        ) == (
            other.pins,
            other.initial,
            &other.changes,
            other.initial_floating,
            &other.floats,
            other.end_fs,
        )
    }
}

impl Eq for Trace {}

impl Default for Trace {
    fn default() -> Self {
        TraceBuilder::new().build()
    }
}

impl Trace {
    /// The GPIOs the trace drives, as a mask (bit n = GPIO n).
    pub fn pins(&self) -> u64 {
        self.pins
    }

    /// Names of every wire the file declared, in declaration order (empty for built traces).
    pub fn wires(&self) -> &[String] {
        &self.wires
    }

    /// Levels at time 0, including every change at exactly time 0 (bit n = GPIO n).
    pub fn initial(&self) -> u64 {
        self.initial
    }

    /// The level changes after time 0, sorted by time; within one time, by pin.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The end of the trace in femtoseconds: the last `#` timestamp of the file.
    pub fn end_fs(&self) -> u128 {
        self.end_fs
    }

    /// The levels after the last change.
    pub fn final_levels(&self) -> u64 {
        self.changes.iter().fold(self.initial, apply)
    }

    /// The levels at `t_fs`, including changes at exactly `t_fs` (binary search, no state).
    pub fn level_at(&self, t_fs: u128) -> u64 {
        let n = self.changes.partition_point(|c| c.t_fs <= t_fs);
        self.changes
            .get(..n)
            .unwrap_or(&[])
            .iter()
            .fold(self.initial, apply)
    }

    /// A sequential reader of levels at increasing times (what samplers use).
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.initial, Arc::clone(&self.changes))
    }

    /// Pins at high impedance (`z`) at time 0 (bit n = GPIO n).
    pub fn initial_floating(&self) -> u64 {
        self.initial_floating
    }

    /// When pins start (level 1) and stop (level 0) floating, sorted by time. A floating pin's
    /// level in [`Trace::changes`] is 0: only a board that models pulls tells it apart.
    pub fn floats(&self) -> &[Change] {
        &self.floats
    }

    /// A sequential reader of the floating pins (bit n set = GPIO n at `z`) at increasing
    /// times; None when no pin ever floats.
    pub fn floating_cursor(&self) -> Option<Cursor> {
        (self.initial_floating != 0 || !self.floats.is_empty())
            .then(|| Cursor::new(self.initial_floating, Arc::clone(&self.floats)))
    }
}

/// The level a recorded change uses for "high impedance" (`z`) until the trace is built.
const Z: u8 = 2;

/// `levels` with `c` applied.
pub(crate) fn apply(levels: u64, c: &Change) -> u64 {
    let bit = 1u64 << c.pin;
    if c.level != 0 {
        levels | bit
    } else {
        levels & !bit
    }
}

/// Collects levels and changes in any order and turns them into a [`Trace`].
///
/// Changes at the same time keep their insertion order, so for one pin the last one wins.
/// Changes at time 0 set the initial level. Pins above 53 are dropped with a warning.
#[derive(Debug, Clone, Default)]
pub struct TraceBuilder {
    pins: u64,
    wires: Vec<String>,
    initial: u64,
    initial_floating: u64,
    changes: Vec<Change>,
    end_fs: u128,
}

impl TraceBuilder {
    /// An empty builder: no pins, end time 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares `pin` as driven by the trace (initially low unless set otherwise).
    pub fn drive(&mut self, pin: u8) -> &mut Self {
        if valid(pin) {
            self.pins |= 1 << pin;
        }
        self
    }

    /// Records the name of a wire the file declares (for messages about what it drives).
    pub fn wire(&mut self, name: &str) -> &mut Self {
        if !self.wires.iter().any(|w| w == name) {
            self.wires.push(name.to_owned());
        }
        self
    }

    /// Sets the level of `pin` at time 0.
    pub fn initial(&mut self, pin: u8, level: u8) -> &mut Self {
        self.change(0, pin, level)
    }

    /// Records that `pin` goes to `level` (nonzero = 1) at `t_fs`.
    pub fn change(&mut self, t_fs: u128, pin: u8, level: u8) -> &mut Self {
        self.record(t_fs, pin, u8::from(level != 0))
    }

    /// Records that nothing drives `pin` from `t_fs` on (`z`): it reads 0 here, and its pull
    /// on a board that models pulls; the next [`TraceBuilder::change`] drives it again.
    pub fn float(&mut self, t_fs: u128, pin: u8) -> &mut Self {
        self.record(t_fs, pin, Z)
    }

    fn record(&mut self, t_fs: u128, pin: u8, level: u8) -> &mut Self {
        if valid(pin) {
            self.pins |= 1 << pin;
            if t_fs == 0 {
                let (l, f) = step(self.initial, self.initial_floating, pin, level);
                self.initial = l;
                self.initial_floating = f;
            } else {
                self.changes.push(Change { t_fs, pin, level });
            }
        }
        self
    }

    /// Records a change at `t_us` microseconds.
    pub fn change_us(&mut self, t_us: u64, pin: u8, level: u8) -> &mut Self {
        self.change(u128::from(t_us) * FS_PER_US, pin, level)
    }

    /// Extends the end time to at least `t_fs` (it is also at least the last change).
    pub fn end_at(&mut self, t_fs: u128) -> &mut Self {
        self.end_fs = self.end_fs.max(t_fs);
        self
    }

    /// The trace: changes sorted, same-time changes merged (last wins), no-op changes dropped.
    pub fn build(&self) -> Trace {
        let mut raw = self.changes.clone();
        // Stable, so the insertion order within one time survives: the last write wins.
        raw.sort_by_key(|c| c.t_fs);
        let mut out = Vec::with_capacity(raw.len());
        let mut floats = Vec::new();
        let (mut before, mut floating) = (self.initial, self.initial_floating);
        let mut i = 0;
        while let Some(first) = raw.get(i) {
            let t_fs = first.t_fs;
            let (mut after, mut after_floating) = (before, floating);
            while let Some(c) = raw.get(i).filter(|c| c.t_fs == t_fs) {
                (after, after_floating) = step(after, after_floating, c.pin, c.level);
                i += 1;
            }
            transitions(t_fs, before, after, &mut out);
            transitions(t_fs, floating, after_floating, &mut floats);
            (before, floating) = (after, after_floating);
        }
        let last = raw.last().map_or(0, |c| c.t_fs);
        Trace {
            pins: self.pins,
            wires: self.wires.clone().into(),
            initial: self.initial,
            changes: out.into(),
            initial_floating: self.initial_floating,
            floats: floats.into(),
            end_fs: self.end_fs.max(last),
        }
    }
}

/// Levels and floating pins after `pin` goes to `level` (0, 1 or [`Z`]: level 0, floating).
fn step(levels: u64, floating: u64, pin: u8, level: u8) -> (u64, u64) {
    let bit = 1u64 << pin;
    let levels = if level == 1 {
        levels | bit
    } else {
        levels & !bit
    };
    let floating = if level == Z {
        floating | bit
    } else {
        floating & !bit
    };
    (levels, floating)
}

/// Appends one change per bit that differs between `before` and `after`, at `t_fs`.
fn transitions(t_fs: u128, before: u64, after: u64, out: &mut Vec<Change>) {
    let mut diff = before ^ after;
    while diff != 0 {
        let pin = diff.trailing_zeros() as u8;
        let level = (after >> pin & 1) as u8;
        out.push(Change { t_fs, pin, level });
        diff &= diff - 1;
    }
}

/// Whether `pin` exists; logs and rejects the others.
fn valid(pin: u8) -> bool {
    if pin > MAX_PIN {
        tracing::warn!(pin, "trace: GPIO above {MAX_PIN} ignored");
        return false;
    }
    true
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
