use super::*;
use crate::edges::{Gap, PinLevel};
use crate::hw::lineplan::LineSpec;
use crate::sampler::EdgeSource;
use std::collections::VecDeque;
use std::path::Path;

/// An edge source playing scripted chunks, then ending.
struct Scripted {
    chunks: VecDeque<EdgeChunk>,
    overruns: u64,
}

impl EdgeSource for Scripted {
    fn next_chunk(
        &mut self,
        chunk: &mut EdgeChunk,
        _shutdown: &Shutdown,
    ) -> Result<bool, SamplerError> {
        match self.chunks.pop_front() {
            Some(c) => {
                if c.gap.is_some() {
                    self.overruns += 1;
                }
                *chunk = c;
                Ok(true)
            }
            None => Ok(false),
        }
    }
    fn rewatch(&mut self, _lines: &[LineSpec]) -> Result<(), SamplerError> {
        Ok(())
    }
    fn take_over(&mut self, _levels: &[PinLevel], _until_us: Option<u64>) {}
    fn release(&mut self) {}
    fn reacquire(&mut self) -> Result<(), SamplerError> {
        Ok(())
    }
    fn model(&self) -> String {
        "scripted".into()
    }
    fn counters(&self) -> SamplerCounters {
        SamplerCounters {
            overruns: self.overruns,
            ..SamplerCounters::default()
        }
    }
}

fn edge(level: u8, t_us: u64, after_gap: bool) -> Edge {
    Edge {
        pin: 17,
        level,
        t_us,
        after_gap,
    }
}

#[test]
fn an_edge_source_feeds_the_filters_batches_and_stats_without_a_decoder() {
    let config = crate::config::load_str(
        "device_id = \"pi\"\n[sampler]\nbackend = \"cdev\"\n[batch]\nmax_edges = 100\n\
         [[inputs]]\npin = 17\n",
        Path::new("/"),
    )
    .expect("valid config");
    let chunks = VecDeque::from([
        EdgeChunk {
            initial: Some(vec![PinLevel { pin: 17, level: 0 }]),
            until_us: 1_000,
            ..EdgeChunk::default()
        },
        EdgeChunk {
            edges: vec![edge(1, 1_500, false)],
            until_us: 2_000,
            ..EdgeChunk::default()
        },
        EdgeChunk {
            gap: Some(Gap {
                from_us: 2_000,
                to_us: 3_000,
                samples: 0,
                edges: 3,
            }),
            edges: vec![edge(0, 3_000, true)],
            until_us: 4_000,
            ..EdgeChunk::default()
        },
    ]);
    let (queue, stats, shutdown) = (DropOldestQueue::new(16), Stats::default(), Shutdown::new());
    let (_tx, updates) = std::sync::mpsc::channel();
    let beats = crate::liveness::Heartbeats::default();
    Sampling {
        config,
        run_id: 7,
        queue: &queue,
        stats: &stats,
        shutdown: &shutdown,
        updates,
        beats: &beats,
    }
    .run(Source::Edges(Box::new(Scripted {
        chunks,
        overruns: 0,
    })))
    .expect("runs to the end of the script");
    let Some(Outgoing::Levels(levels)) = queue.try_pop() else {
        panic!("initial levels first");
    };
    assert_eq!(levels, [PinLevel { pin: 17, level: 0 }]);
    let Some(Outgoing::Batch(batch)) = queue.try_pop() else {
        panic!("then the batch");
    };
    assert_eq!(batch.edges, [edge(1, 1_500, false), edge(0, 3_000, true)]);
    assert_eq!(batch.gaps.len(), 1);
    assert_eq!(batch.gaps[0].edges, 3);
    assert!(queue.try_pop().is_none());
    assert_eq!(Stats::get(&stats.edges_lost), 3);
    assert_eq!(Stats::get(&stats.samples_lost), 0);
    assert_eq!(Stats::get(&stats.overruns), 1, "the source's overflows");
    assert_eq!(
        Stats::get(&stats.samples),
        0,
        "an edge source takes no samples"
    );
}
