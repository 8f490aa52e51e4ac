//! [`VcdWriter`]: writes edges as VCD (what `edgetap capture --format vcd` emits), and
//! [`write_trace`] for whole traces (generated signals).

use super::header::{timescale_text, timescales_fs};
use super::{utc_string, Trace, VcdError, FS_PER_US};
use crate::edges::{Edge, PinLevel, MAX_PIN};
use std::io::{self, BufWriter, Write};

/// Streams a VCD file: header on first use, then timestamps and value changes in time order.
///
/// Wires are named `gpio<N>` (so [`super::parse`] reads them back); the user's name of a pin goes
/// into a `$comment` next to its `$var`. VCD time 0 is `origin_us` (UTC µs); the timescale is 1 µs.
/// The writer does not buffer: wrap files in a [`BufWriter`].
#[derive(Debug)]
pub struct VcdWriter<W: Write> {
    out: W,
    pins: Vec<(u8, String)>,
    /// Identifier code of each declared GPIO.
    ids: [Option<char>; MAX_PIN as usize + 1],
    /// UTC µs of VCD time 0, when the file is tied to wall-clock time.
    origin_us: Option<u64>,
    unit_fs: u128,
    header_done: bool,
    /// The last timestamp written, in VCD units.
    last: Option<u128>,
}

impl<W: Write> VcdWriter<W> {
    /// A writer declaring `pins` (GPIO, name) with VCD time 0 at `origin_us` (UTC µs).
    ///
    /// Fails on a pin above 53 or a pin listed twice. Nothing is written until the first call.
    pub fn new(out: W, pins: &[(u8, String)], origin_us: u64) -> Result<Self, VcdError> {
        Self::with_unit(out, pins, Some(origin_us), FS_PER_US)
    }

    fn with_unit(
        out: W,
        pins: &[(u8, String)],
        origin_us: Option<u64>,
        unit_fs: u128,
    ) -> Result<Self, VcdError> {
        let mut ids = [None; MAX_PIN as usize + 1];
        for (i, (pin, _)) in pins.iter().enumerate() {
            let slot = ids.get_mut(usize::from(*pin)).ok_or(VcdError::BadPin {
                pin: *pin,
                reason: format!("no such GPIO (0–{MAX_PIN})"),
            })?;
            if slot.is_some() {
                return Err(VcdError::BadPin {
                    pin: *pin,
                    reason: "listed twice".into(),
                });
            }
            // At most 54 pins, so one printable character from '!' on is always enough.
            *slot = char::from_u32(u32::from(b'!') + i as u32);
        }
        Ok(VcdWriter {
            out,
            pins: pins.to_vec(),
            ids,
            origin_us,
            unit_fs,
            header_done: false,
            last: None,
        })
    }

    /// Writes the levels of the declared pins as `$dumpvars` at `t_us` (pins not listed: low).
    ///
    /// Call it at `origin_us` for the parser to read these levels back as the initial ones
    /// (edges at `origin_us` itself read back as part of the initial levels: VCD time 0).
    pub fn initial(&mut self, levels: &[PinLevel], t_us: u64) -> Result<(), VcdError> {
        let word = levels
            .iter()
            .filter(|l| l.pin <= MAX_PIN && l.level != 0)
            .fold(0u64, |w, l| w | 1 << l.pin);
        self.initial_word(word, t_us)
    }

    /// [`VcdWriter::initial`] from a level word (bit n = GPIO n).
    pub fn initial_word(&mut self, levels: u64, t_us: u64) -> Result<(), VcdError> {
        self.at_us(t_us)?;
        writeln!(self.out, "$dumpvars")?;
        for (pin, _) in &self.pins {
            if let Some(id) = self.id(*pin) {
                writeln!(self.out, "{}{id}", levels >> pin & 1)?;
            }
        }
        writeln!(self.out, "$end")?;
        Ok(())
    }

    /// Writes one edge; edges must come in time order, on declared pins, not before the origin.
    ///
    /// An edge after a gap is preceded by `$comment after_gap pin N $end`: VCD has no per-change
    /// attribute, and a comment leaves every viewer's reading of the value change as it was.
    pub fn edge(&mut self, e: &Edge) -> Result<(), VcdError> {
        let id = self
            .id(e.pin)
            .ok_or(VcdError::UndeclaredPin { pin: e.pin })?;
        self.at_us(e.t_us)?;
        if e.after_gap {
            writeln!(self.out, "$comment after_gap pin {} $end", e.pin)?;
        }
        writeln!(self.out, "{}{id}", u8::from(e.level != 0))?;
        Ok(())
    }

    /// Writes a bare timestamp at `t_us`, e.g. to record when a capture ended.
    pub fn mark(&mut self, t_us: u64) -> Result<(), VcdError> {
        self.at_us(t_us)
    }

    /// Writes the header if nothing was written yet, flushes, and hands back the output.
    pub fn finish(mut self) -> Result<W, io::Error> {
        self.header()?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn id(&self, pin: u8) -> Option<char> {
        self.ids.get(usize::from(pin)).copied().flatten()
    }

    /// Moves to UTC `t_us`, converted to VCD units.
    fn at_us(&mut self, t_us: u64) -> Result<(), VcdError> {
        let origin_us = self.origin_us.unwrap_or(0);
        let rel = t_us
            .checked_sub(origin_us)
            .ok_or(VcdError::BeforeOrigin { t_us, origin_us })?;
        let units = u128::from(rel) * FS_PER_US / self.unit_fs;
        self.at(units).map_err(|e| match e {
            VcdError::OutOfOrder { last_us, .. } => VcdError::OutOfOrder {
                t_us,
                last_us: last_us.saturating_add(origin_us),
            },
            e => e,
        })
    }

    /// Moves to VCD time `units`, writing `#units` unless already there.
    fn at(&mut self, units: u128) -> Result<(), VcdError> {
        self.header()?;
        if let Some(last) = self.last {
            if units < last {
                let to_us =
                    |u: u128| u64::try_from(u * self.unit_fs / FS_PER_US).unwrap_or(u64::MAX);
                return Err(VcdError::OutOfOrder {
                    t_us: to_us(units),
                    last_us: to_us(last),
                });
            }
            if units == last {
                return Ok(());
            }
        }
        writeln!(self.out, "#{units}")?;
        self.last = Some(units);
        Ok(())
    }

    fn header(&mut self) -> io::Result<()> {
        if self.header_done {
            return Ok(());
        }
        self.header_done = true;
        let o = &mut self.out;
        if let Some(origin) = self.origin_us {
            writeln!(o, "$date {} $end", utc_string(origin))?;
        }
        writeln!(o, "$version edgetap {} $end", env!("CARGO_PKG_VERSION"))?;
        if let Some(origin) = self.origin_us {
            writeln!(
                o,
                "$comment VCD time 0 is UTC {origin} us ({}) $end",
                utc_string(origin)
            )?;
        }
        let scale = timescale_text(self.unit_fs).unwrap_or_else(|| "1 fs".into());
        writeln!(o, "$timescale {scale} $end")?;
        writeln!(o, "$scope module edgetap $end")?;
        for (pin, name) in &self.pins {
            let Some(id) = self.ids.get(usize::from(*pin)).copied().flatten() else {
                continue;
            };
            let gpio = format!("gpio{pin}");
            if !name.trim().is_empty() && name.trim() != gpio {
                writeln!(o, "$comment {gpio}: {} $end", comment_safe(name))?;
            }
            writeln!(o, "$var wire 1 {id} {gpio} $end")?;
        }
        writeln!(o, "$upscope $end")?;
        writeln!(o, "$enddefinitions $end")?;
        Ok(())
    }
}

/// `text` made safe inside `$comment ... $end`: no `$` (so no early `$end`), one line.
fn comment_safe(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '$' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Writes `trace` as VCD (wires `gpio<N>`, time 0 = trace time 0) and hands back the output.
///
/// The timescale is the longest one that holds every change time exactly, so generated
/// signals on whole microseconds get `1 us` and sub-µs traces stay exact.
pub fn write_trace<W: Write>(trace: &Trace, out: W) -> Result<W, VcdError> {
    let gcd_all = trace
        .changes()
        .iter()
        .map(|c| c.t_fs)
        .fold(trace.end_fs(), gcd);
    let unit_fs = timescales_fs()
        .find(|u| gcd_all % u == 0 && *u <= FS_PER_US)
        .unwrap_or(1);
    let pins: Vec<(u8, String)> = (0..=MAX_PIN)
        .filter(|p| trace.pins() >> p & 1 == 1)
        .map(|p| (p, String::new()))
        .collect();
    let mut w = VcdWriter::with_unit(BufWriter::new(out), &pins, None, unit_fs)?;
    w.at(0)?;
    writeln!(w.out, "$dumpvars")?;
    for (pin, _) in &pins {
        if let Some(id) = w.id(*pin) {
            writeln!(w.out, "{}{id}", trace.initial() >> pin & 1)?;
        }
    }
    writeln!(w.out, "$end")?;
    for c in trace.changes() {
        w.at(c.t_fs / unit_fs)?;
        if let Some(id) = w.id(c.pin) {
            writeln!(w.out, "{}{id}", c.level)?;
        }
    }
    w.at(trace.end_fs() / unit_fs)?;
    w.finish()?.into_inner().map_err(|e| e.into_error().into())
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
