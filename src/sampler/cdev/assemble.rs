//! Edge events → [`EdgeChunk`]s: the pure heart of the character-device source.
//!
//! It keeps each watched line's level and sequence numbers. A jump in `seqno` means the kernel's
//! event buffer overflowed and dropped events: the chunk then carries a [`Gap`] with the number
//! of edges lost (`edges`, not samples), and the first edge of every line whose `line_seqno`
//! jumped is marked `after_gap`. An event that repeats a line's level (its opposite was lost, or
//! it raced the initial read) is dropped: the level is already right.
//!
//! Nothing changes between edges, so "no event" is information too: a chunk vouches for the
//! signal up to the time it was read, less [`VOUCH_MARGIN_US`] for events still on their way
//! from the interrupt handler to the buffer. An event stamped before what was already vouched
//! for is moved to that time (counted as `late`), so filters never see time go backwards.

use crate::edges::{Edge, EdgeChunk, Gap, PinLevel};

use super::event::LineEvent;

/// How far behind the read time a chunk vouches for the signal: room for an edge whose
/// interrupt was stamped but not yet queued (threaded IRQ handler latency).
pub const VOUCH_MARGIN_US: u64 = 2_000;

/// Trouble the assembler met, totals since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblyCounters {
    /// Times the kernel's event buffer overflowed (a `seqno` jump).
    pub overflows: u64,
    /// Edges the kernel dropped.
    pub edges_lost: u64,
    /// Events stamped before the time already vouched for (moved to it).
    pub late: u64,
    /// Events that repeated their line's level (dropped).
    pub repeated: u64,
}

/// One watched line.
#[derive(Debug, Clone, Copy)]
struct Line {
    pin: u8,
    level: u8,
    /// `line_seqno` expected next; `None` before the line's request.
    next_seqno: Option<u32>,
    /// The line lost events: its next edge is after a gap.
    after_gap: bool,
}

/// Builds chunks from the events of one line request (and of the requests that replace it).
#[derive(Debug, Default)]
pub struct Assembler {
    lines: Vec<Line>,
    /// `seqno` expected next (a request numbers its events from 1); `None` before any.
    next_seqno: Option<u32>,
    /// UTC µs the last chunk vouched for.
    vouched_us: u64,
    /// Whether a request was made before (a new one then follows a gap).
    requested: bool,
    /// What a (re)request found, handed on with the next chunk.
    pending: EdgeChunk,
    counters: AssemblyCounters,
}

impl Assembler {
    /// An assembler before any request.
    pub fn new() -> Self {
        Assembler::default()
    }

    /// Totals so far.
    pub fn counters(&self) -> AssemblyCounters {
        self.counters
    }

    /// The levels of the watched pins as last reported (for a source taking over).
    pub fn levels(&self) -> Vec<PinLevel> {
        self.lines
            .iter()
            .map(|l| PinLevel {
                pin: l.pin,
                level: l.level,
            })
            .collect()
    }

    /// UTC µs up to which the signal has been vouched for.
    pub fn vouched_us(&self) -> u64 {
        self.vouched_us
    }

    /// Continues from another source's `levels` and vouched time (a source replaced by new
    /// settings): its pins are not started again, and the next request follows a gap.
    pub fn take_over(&mut self, levels: &[PinLevel], vouched_us: u64) {
        self.lines = levels
            .iter()
            .map(|l| Line {
                pin: l.pin,
                level: l.level,
                next_seqno: None,
                after_gap: false,
            })
            .collect();
        self.vouched_us = vouched_us;
        self.requested = true;
    }

    /// A request was made for exactly the pins of `levels`, whose values were read at `now_us`.
    /// New pins start at their level (the next chunk's `initial`); pins dropped are forgotten.
    /// After an earlier request, the time between is a gap (`edges`: the pins found changed, a
    /// lower bound), and each changed pin's new level is an edge after it.
    pub fn requested(&mut self, levels: &[(u8, u8)], now_us: u64) {
        let now = now_us.max(self.vouched_us);
        let mut initial = Vec::new();
        let mut changed = 0;
        let mut lines = Vec::with_capacity(levels.len());
        for &(pin, level) in levels {
            let level = level & 1;
            match self.lines.iter().find(|l| l.pin == pin) {
                None => initial.push(PinLevel { pin, level }),
                Some(old) if old.level != level => {
                    changed += 1;
                    self.pending.edges.push(Edge {
                        pin,
                        level,
                        t_us: now,
                        after_gap: true,
                    });
                }
                Some(_) => {}
            }
            lines.push(Line {
                pin,
                level,
                // A new request numbers each line's events from 1.
                next_seqno: Some(1),
                after_gap: false,
            });
        }
        if !initial.is_empty() {
            self.pending
                .initial
                .get_or_insert_with(Vec::new)
                .extend(initial);
        }
        if self.requested {
            merge_gap(
                &mut self.pending.gap,
                Gap {
                    from_us: self.vouched_us,
                    to_us: now,
                    samples: 0,
                    edges: changed,
                },
            );
        }
        self.lines = lines;
        self.next_seqno = Some(1);
        self.requested = true;
        // Accounted for up to the read: as a gap, or as the levels pins start at.
        self.vouched_us = now;
    }

    /// Fills `chunk` (cleared first) with what the last request found and `events` (one read,
    /// in kernel order), mapped to UTC by `utc_us`; the wall clock read `now_us` after them.
    pub fn chunk(
        &mut self,
        events: &[LineEvent],
        utc_us: impl Fn(u64) -> u64,
        now_us: u64,
        chunk: &mut EdgeChunk,
    ) {
        chunk.clear();
        chunk.initial = self.pending.initial.take();
        chunk.gap = self.pending.gap.take();
        chunk.edges.append(&mut self.pending.edges);
        let mut floor = chunk
            .edges
            .iter()
            .fold(self.vouched_us, |f, e| f.max(e.t_us));
        for e in events {
            let mut t = utc_us(e.timestamp_ns);
            if let Some(lost) = jump(self.next_seqno, e.seqno) {
                self.counters.overflows += 1;
                self.counters.edges_lost += u64::from(lost);
                merge_gap(
                    &mut chunk.gap,
                    Gap {
                        from_us: floor,
                        to_us: t.max(floor),
                        samples: 0,
                        edges: u64::from(lost),
                    },
                );
            }
            self.next_seqno = Some(e.seqno.wrapping_add(1));
            let Some(line) = self.lines.iter_mut().find(|l| u32::from(l.pin) == e.offset) else {
                continue; // not a watched line: nothing to report
            };
            if jump(line.next_seqno, e.line_seqno).is_some() {
                line.after_gap = true;
            }
            line.next_seqno = Some(e.line_seqno.wrapping_add(1));
            if t < floor {
                self.counters.late += 1;
                t = floor;
            }
            floor = t;
            if e.level & 1 == line.level {
                self.counters.repeated += 1;
                continue;
            }
            line.level = e.level & 1;
            chunk.edges.push(Edge {
                pin: line.pin,
                level: line.level,
                t_us: t,
                after_gap: std::mem::take(&mut line.after_gap),
            });
        }
        chunk.until_us = floor.max(now_us.saturating_sub(VOUCH_MARGIN_US));
        self.vouched_us = chunk.until_us;
        // Filters want pin order within one instant.
        chunk.edges.sort_by_key(|e| (e.t_us, e.pin));
    }
}

/// Events skipped between the expected sequence number and the one seen (none expected yet,
/// none skipped, or a number from the past: `None`).
fn jump(expected: Option<u32>, seen: u32) -> Option<u32> {
    let lost = seen.wrapping_sub(expected?);
    (lost != 0 && lost < u32::MAX / 2).then_some(lost)
}

/// Adds `g` to the chunk's gap: one gap per chunk, spanning both, with both losses.
fn merge_gap(gap: &mut Option<Gap>, g: Gap) {
    *gap = Some(match *gap {
        None => g,
        Some(old) => Gap {
            from_us: old.from_us.min(g.from_us),
            to_us: old.to_us.max(g.to_us),
            samples: old.samples + g.samples,
            edges: old.edges + g.edges,
        },
    });
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
