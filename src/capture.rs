//! `edgetap capture`: sample, decode and filter without MQTT, writing edges as JSON lines or VCD.

use std::io::Write;

use crate::block::Block;
use crate::config::Config;
use crate::edges::order::TimeOrder;
use crate::edges::{Edge, EdgeChunk};
use crate::pipeline::{BlockEvents, Pipeline};
use crate::sampler::{self, SamplerError, Source};
use crate::shutdown::Shutdown;
use crate::vcd::VcdWriter;

/// Output format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// One `{"pin":17,"level":1,"t_us":...}` object per line, one line per edge.
    JsonLines,
    /// A VCD file with one wire per watched pin (timescale 1 µs, time 0 = first sample).
    Vcd,
}

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The sampler failed.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// Writing the output failed.
    #[error("writing capture output: {0}")]
    Output(#[from] std::io::Error),
    /// The VCD writer refused an edge.
    #[error("writing VCD: {0}")]
    Vcd(String),
}

/// What a finished capture saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSummary {
    /// Samples taken.
    pub samples: u64,
    /// Edges written.
    pub edges: u64,
    /// Samples lost to gaps.
    pub samples_lost: u64,
    /// Edges lost to gaps (an edge source's event buffer overflowed).
    pub edges_lost: u64,
    /// Edges dropped by the per-pin rate limits (the same limits `run` applies).
    pub rate_limited: u64,
}

/// Samples per `config` until the signal ends, `duration_us` of signal time has been covered, or
/// `shutdown` is triggered; writes every filtered edge to `out` in `format`, in time order across
/// pins (held back by at most the largest `glitch_us`, see [`TimeOrder`]).
pub fn capture<W: Write>(
    config: &Config,
    duration_us: Option<u64>,
    format: CaptureFormat,
    out: W,
    shutdown: &Shutdown,
) -> Result<CaptureSummary, CaptureError> {
    let mut source = sampler::open_source(config)?;
    let mut pipeline = Pipeline::new(&config.filter_inputs());
    let mut block = match &source {
        Source::Blocks(s) => Block::new(s.period_us(), s.words()),
        Source::Edges(_) => Block::new(1, crate::block::LevelWords::One),
    };
    let mut chunk = EdgeChunk::default();
    let mut edges: Vec<Edge> = Vec::new();
    let mut summary = CaptureSummary::default();
    let mut sink = Sink::new(format, out, config);
    let mut start_us = None;
    let mut order = TimeOrder::new(TimeOrder::bound_for(
        config.inputs.iter().map(|i| i.glitch_us),
    ));
    let mut written: Result<(), CaptureError> = Ok(());
    while !shutdown.is_triggered() {
        let limit_of = |start: u64| duration_us.map(|d| start.saturating_add(d));
        edges.clear();
        let (events, t0_us, end_us): (BlockEvents, u64, u64) = match &mut source {
            Source::Blocks(s) => {
                if !s.next_block(&mut block, shutdown)? {
                    break;
                }
                let start = *start_us.get_or_insert(block.t0_us);
                if let Some(limit) = limit_of(start) {
                    // Drop the samples past the requested duration so captures are exact.
                    let keep = (0..block.samples())
                        .take_while(|&i| block.time_of(i) < limit)
                        .count();
                    block.levels.truncate(keep * block.words.count());
                }
                summary.samples += block.samples() as u64;
                let events = pipeline.process(&block, &mut edges);
                (events, block.t0_us, block.end_us())
            }
            Source::Edges(s) => {
                let from = pipeline.last_sample_us();
                if !s.next_chunk(&mut chunk, shutdown)? {
                    break;
                }
                // The first chunk's initial levels hold from the moment the lines were read.
                let t0 = from.unwrap_or(chunk.until_us);
                let start = *start_us.get_or_insert(t0);
                if let Some(limit) = limit_of(start) {
                    // Drop the edges past the requested duration so captures are exact.
                    chunk.edges.retain(|e| e.t_us < limit);
                    chunk.until_us = chunk.until_us.min(limit.saturating_sub(1));
                }
                let events = pipeline.process_chunk(&chunk, &mut edges);
                (events, t0, chunk.until_us.saturating_add(1))
            }
        };
        let limit = start_us.and_then(limit_of);
        if let Some(levels) = &events.initial {
            sink.initial(levels, t0_us)?;
        }
        if let Some(gap) = events.gap {
            summary.samples_lost += gap.samples;
            summary.edges_lost += gap.edges;
        }
        summary.rate_limited += pipeline.rate_limited().iter().map(|r| r.edges).sum::<u64>();
        for &e in &edges {
            order.push(e);
        }
        if let Some(last) = pipeline.last_sample_us() {
            order.release(last, &mut |e| {
                write_edge(&mut sink, &e, &mut written, &mut summary)
            });
        }
        std::mem::replace(&mut written, Ok(()))?;
        if limit.is_some_and(|l| end_us >= l) {
            break;
        }
    }
    order.drain(&mut |e| write_edge(&mut sink, &e, &mut written, &mut summary));
    written?;
    sink.finish()?;
    Ok(summary)
}

/// Writes one released edge unless an earlier write failed (the first error is kept).
fn write_edge<W: Write>(
    sink: &mut Sink<W>,
    e: &Edge,
    written: &mut Result<(), CaptureError>,
    summary: &mut CaptureSummary,
) {
    if written.is_ok() {
        *written = sink.edge(e);
        summary.edges += u64::from(written.is_ok());
    }
}

/// The writer for one format; VCD needs its header written once the origin is known.
enum Sink<W: Write> {
    Json(W),
    Vcd {
        pins: Vec<(u8, String)>,
        pending: Option<W>,
        writer: Option<Box<VcdWriter<W>>>,
    },
}

impl<W: Write> Sink<W> {
    fn new(format: CaptureFormat, out: W, config: &Config) -> Self {
        match format {
            CaptureFormat::JsonLines => Sink::Json(out),
            CaptureFormat::Vcd => Sink::Vcd {
                pins: config
                    .inputs
                    .iter()
                    .map(|i| (i.pin, i.name.clone()))
                    .collect(),
                pending: Some(out),
                writer: None,
            },
        }
    }

    fn initial(
        &mut self,
        levels: &[crate::edges::PinLevel],
        t0_us: u64,
    ) -> Result<(), CaptureError> {
        if let Sink::Vcd {
            pins,
            pending,
            writer,
        } = self
        {
            if let Some(out) = pending.take() {
                let mut w = VcdWriter::new(out, pins, t0_us)
                    .map_err(|e| CaptureError::Vcd(e.to_string()))?;
                w.initial(levels, t0_us)
                    .map_err(|e| CaptureError::Vcd(e.to_string()))?;
                *writer = Some(Box::new(w));
            }
        }
        Ok(())
    }

    fn edge(&mut self, e: &Edge) -> Result<(), CaptureError> {
        match self {
            Sink::Json(out) => {
                serde_json::to_writer(&mut *out, e).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
            }
            Sink::Vcd { writer, .. } => {
                if let Some(w) = writer {
                    w.edge(e)
                        .map_err(|err| CaptureError::Vcd(err.to_string()))?;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(), CaptureError> {
        match self {
            Sink::Json(mut out) => out.flush()?,
            Sink::Vcd {
                writer: Some(w), ..
            } => {
                w.finish()?.flush()?;
            }
            Sink::Vcd {
                pending: Some(mut out),
                ..
            } => out.flush()?,
            Sink::Vcd { .. } => {}
        }
        Ok(())
    }
}
