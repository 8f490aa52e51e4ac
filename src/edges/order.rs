//! [`TimeOrder`]: merges the edges of all pins into one time order.
//!
//! The filters report each pin's edges in time order, but not all pins at the same pace: the
//! glitch filter stamps an edge with the time of the original change and releases it only once
//! the level has held for `glitch_us`, so by then other pins' later edges may already be out.
//! After the pipeline has processed samples up to `L`, no edge it reports later can be stamped
//! before `L − max(glitch_us)` (the other filters stamp at or after the time they were advanced
//! to). So edges are held in a buffer sorted by time and released once they are older than that
//! bound: the released stream is in time order across pins, at the cost of `max(glitch_us)` of
//! latency.

use std::collections::VecDeque;

use super::Edge;

/// A reorder buffer keyed by edge time, released once older than the largest filter delay.
#[derive(Debug, Default, Clone)]
pub struct TimeOrder {
    /// The largest delay (µs) between an edge's time and the sample that releases it.
    bound_us: u64,
    /// Held edges, sorted by `t_us`; equal times keep their arrival order.
    held: VecDeque<Edge>,
    /// Time of the last edge released (releases never go back before it).
    released_us: u64,
}

impl TimeOrder {
    /// A buffer for filters that delay an edge by at most `bound_us`.
    pub fn new(bound_us: u64) -> Self {
        TimeOrder {
            bound_us,
            ..Self::default()
        }
    }

    /// The bound for `glitch_us` values of the inputs: the largest one.
    pub fn bound_for(glitch_us: impl IntoIterator<Item = u64>) -> u64 {
        glitch_us.into_iter().max().unwrap_or(0)
    }

    /// Raises the bound (a new input with a longer glitch filter); it never shrinks, because
    /// edges of the old settings may still be on their way.
    pub fn raise_bound(&mut self, bound_us: u64) {
        self.bound_us = self.bound_us.max(bound_us);
    }

    /// Edges held, not yet released.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Holds `e` until it is older than the bound.
    ///
    /// An edge stamped before the last one released (not possible with the filters' bound)
    /// is released next, at the time already released, so the output never goes back in time.
    pub fn push(&mut self, mut e: Edge) {
        e.t_us = e.t_us.max(self.released_us);
        let at = self.held.partition_point(|h| h.t_us <= e.t_us);
        self.held.insert(at, e);
    }

    /// Releases, in time order, every held edge stamped before `processed_us − bound` (the
    /// pipeline has processed every sample up to `processed_us`).
    pub fn release(&mut self, processed_us: u64, out: &mut impl FnMut(Edge)) {
        let horizon = processed_us.saturating_sub(self.bound_us);
        while self.held.front().is_some_and(|e| e.t_us < horizon) {
            if let Some(e) = self.held.pop_front() {
                self.released_us = e.t_us;
                out(e);
            }
        }
    }

    /// Releases every held edge (the stream has ended).
    pub fn drain(&mut self, out: &mut impl FnMut(Edge)) {
        while let Some(e) = self.held.pop_front() {
            self.released_us = e.t_us;
            out(e);
        }
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
