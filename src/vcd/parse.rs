//! The VCD parser: a single pass over the tokens, feeding a [`TraceBuilder`].

use super::header::{timescale_fs, var_decl};
use super::lex::{Lexer, Token};
use super::{Trace, TraceBuilder, VcdError};
use crate::edges::MAX_PIN;
use std::collections::HashMap;

/// Timescale assumed when a file has none (the common convention of VCD viewers).
const DEFAULT_TIMESCALE_FS: u128 = 1_000_000;

/// Parses VCD text into a [`Trace`] of the wires named `gpio<N>`.
///
/// Values before the first timestamp count as time 0; `x` and `z` read as 0; vector values on
/// 1-bit wires take their last bit; values of wider wires and real values are ignored.
pub fn parse(text: &str) -> Result<Trace, VcdError> {
    let mut p = Parser {
        lex: Lexer::new(text),
        scale_fs: None,
        vars: HashMap::new(),
        gpio_lines: [None; MAX_PIN as usize + 1],
        depth: 0,
        in_header: true,
        time: None,
        builder: TraceBuilder::new(),
    };
    p.run()?;
    Ok(p.builder.build())
}

/// What a value change needs to know about an identifier code.
#[derive(Debug, Clone, Copy)]
struct Var {
    width: u32,
    /// GPIOs driven by this code (an id may be declared under several names).
    pins: u64,
}

/// Parser state.
struct Parser<'a> {
    lex: Lexer<'a>,
    scale_fs: Option<u128>,
    vars: HashMap<&'a str, Var>,
    /// Line of the wire that drives each GPIO, to report duplicates.
    gpio_lines: [Option<usize>; MAX_PIN as usize + 1],
    depth: usize,
    in_header: bool,
    /// Current time: raw VCD value and femtoseconds; `None` before the first `#`.
    time: Option<(u128, u128)>,
    builder: TraceBuilder,
}

/// A syntax error at `line`.
/// What [`level_of`] gives for high impedance.
const FLOATING: u8 = 2;

/// The level of a scalar value character: `1`/`h` high, `z` floating ([`FLOATING`]: the pin
/// reads its pull on the emulated board, 0 elsewhere), anything else (`0`, `x`, `l`, …) low.
fn level_of(c: char) -> u8 {
    match c {
        '1' | 'h' | 'H' => 1,
        'z' | 'Z' => FLOATING,
        _ => 0,
    }
}

fn syntax(line: usize, reason: impl Into<String>) -> VcdError {
    VcdError::Syntax {
        line,
        reason: reason.into(),
    }
}

impl<'a> Parser<'a> {
    fn run(&mut self) -> Result<(), VcdError> {
        while let Some(tok) = self.lex.next() {
            match tok.text {
                "$comment" | "$date" | "$version" => {
                    self.section(tok)?;
                }
                "$timescale" => {
                    self.header_only(tok)?;
                    let body = self.section(tok)?;
                    let fs = timescale_fs(&body).map_err(|r| syntax(tok.line, r))?;
                    self.scale_fs = Some(fs);
                }
                "$scope" => {
                    self.header_only(tok)?;
                    if self.section(tok)?.is_empty() {
                        return Err(syntax(tok.line, "$scope needs a type and a name"));
                    }
                    self.depth += 1;
                }
                "$upscope" => {
                    self.header_only(tok)?;
                    self.empty_section(tok)?;
                    self.depth = self
                        .depth
                        .checked_sub(1)
                        .ok_or_else(|| syntax(tok.line, "$upscope without a matching $scope"))?;
                }
                "$var" => {
                    self.header_only(tok)?;
                    let body = self.section(tok)?;
                    self.declare(tok.line, &body)?;
                }
                "$enddefinitions" => {
                    self.header_only(tok)?;
                    self.empty_section(tok)?;
                    self.in_header = false;
                }
                "$dumpvars" | "$dumpon" | "$dumpoff" | "$dumpall" => {
                    self.body_only(tok)?;
                    self.dump_block(tok)?;
                }
                "$end" => return Err(syntax(tok.line, "$end without an opening section")),
                t if t.starts_with('$') => {
                    // Extensions (e.g. $attrbegin) carry nothing we use; skip them whole.
                    tracing::debug!(
                        line = tok.line,
                        keyword = t,
                        "VCD: skipping unknown section"
                    );
                    self.section(tok)?;
                }
                t if t.starts_with('#') => {
                    self.body_only(tok)?;
                    self.timestamp(tok)?;
                }
                _ => {
                    self.body_only(tok)?;
                    self.value_change(tok)?;
                }
            }
        }
        if self.depth > 0 {
            tracing::debug!(depth = self.depth, "VCD: scopes left open at end of file");
        }
        Ok(())
    }

    /// The tokens up to the next `$end`, which is consumed.
    fn section(&mut self, open: Token) -> Result<Vec<Token<'a>>, VcdError> {
        let mut body = Vec::new();
        for tok in self.lex.by_ref() {
            if tok.text == "$end" {
                return Ok(body);
            }
            body.push(tok);
        }
        Err(syntax(
            open.line,
            format!("unterminated {} (no $end)", open.text),
        ))
    }

    /// Consumes a section that must have nothing before its `$end`.
    fn empty_section(&mut self, open: Token) -> Result<(), VcdError> {
        match self.section(open)?.first() {
            None => Ok(()),
            Some(t) => Err(syntax(
                t.line,
                format!("unexpected `{}` in {}", t.text, open.text),
            )),
        }
    }

    fn header_only(&self, tok: Token) -> Result<(), VcdError> {
        if self.in_header {
            Ok(())
        } else {
            Err(syntax(
                tok.line,
                format!("{} after $enddefinitions", tok.text),
            ))
        }
    }

    fn body_only(&self, tok: Token) -> Result<(), VcdError> {
        if self.in_header {
            Err(syntax(
                tok.line,
                format!("unexpected `{}` before $enddefinitions", tok.text),
            ))
        } else {
            Ok(())
        }
    }

    fn declare(&mut self, line: usize, body: &[Token<'a>]) -> Result<(), VcdError> {
        let decl = var_decl(body).map_err(|r| syntax(line, r))?;
        let var = self.vars.entry(decl.id).or_insert(Var {
            width: decl.width,
            pins: 0,
        });
        if var.width != decl.width {
            return Err(syntax(
                line,
                format!(
                    "identifier `{}` redeclared with size {} (was {})",
                    decl.id, decl.width, var.width
                ),
            ));
        }
        self.builder.wire(decl.name);
        if let Some(pin) = decl.gpio {
            let slot = self
                .gpio_lines
                .get_mut(usize::from(pin))
                .ok_or_else(|| syntax(line, format!("GPIO {pin} out of range")))?;
            if let Some(first) = *slot {
                return Err(syntax(
                    line,
                    format!(
                        "wire `{}` drives GPIO {pin}, already driven by the wire on line {first}",
                        decl.name
                    ),
                ));
            }
            *slot = Some(line);
            var.pins |= 1 << pin;
            self.builder.drive(pin);
        }
        Ok(())
    }

    /// Value changes up to `$end` (the body of `$dumpvars` and friends).
    fn dump_block(&mut self, open: Token) -> Result<(), VcdError> {
        while let Some(tok) = self.lex.next() {
            match tok.text {
                "$end" => return Ok(()),
                t if t.starts_with('#') || t.starts_with('$') => {
                    return Err(syntax(
                        tok.line,
                        format!("unexpected `{t}` inside {} (missing $end?)", open.text),
                    ))
                }
                _ => self.value_change(tok)?,
            }
        }
        Err(syntax(
            open.line,
            format!("unterminated {} (no $end)", open.text),
        ))
    }

    fn timestamp(&mut self, tok: Token) -> Result<(), VcdError> {
        let digits = tok.text.get(1..).unwrap_or("");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax(
                tok.line,
                format!("timestamp `{}` is not a number", tok.text),
            ));
        }
        let out_of_range = || syntax(tok.line, format!("timestamp `{}` is too large", tok.text));
        let raw: u128 = digits.parse().map_err(|_| out_of_range())?;
        let scale = *self.scale_fs.get_or_insert_with(|| {
            tracing::warn!("VCD: no $timescale, assuming 1 ns");
            DEFAULT_TIMESCALE_FS
        });
        let fs = raw.checked_mul(scale).ok_or_else(out_of_range)?;
        if let Some((prev_raw, prev_fs)) = self.time {
            if fs < prev_fs {
                return Err(syntax(
                    tok.line,
                    format!("timestamp #{raw} goes back in time (previous #{prev_raw})"),
                ));
            }
        }
        self.time = Some((raw, fs));
        self.builder.end_at(fs);
        Ok(())
    }

    fn value_change(&mut self, tok: Token<'a>) -> Result<(), VcdError> {
        let mut chars = tok.text.chars();
        let kind = chars.next().unwrap_or(' ');
        let rest = chars.as_str();
        let (value, id) = match kind {
            '0' | '1' | 'x' | 'X' | 'z' | 'Z' => {
                if rest.is_empty() {
                    return Err(syntax(
                        tok.line,
                        format!("value `{}` has no identifier", tok.text),
                    ));
                }
                (Some(level_of(kind)), rest)
            }
            'b' | 'B' => {
                if rest.is_empty() || !rest.chars().all(|c| "01xXzZuUwWlLhH-".contains(c)) {
                    return Err(syntax(tok.line, format!("bad vector value `{}`", tok.text)));
                }
                let last = rest.chars().last();
                (Some(level_of(last.unwrap_or('0'))), self.operand(tok)?)
            }
            // Real and string values never drive a GPIO; only their identifier is checked.
            'r' | 'R' | 's' | 'S' => (None, self.operand(tok)?),
            _ => return Err(syntax(tok.line, format!("unexpected `{}`", tok.text))),
        };
        let var = *self
            .vars
            .get(id)
            .ok_or_else(|| syntax(tok.line, format!("unknown identifier `{id}`")))?;
        let (Some(level), 1) = (value, var.width) else {
            return Ok(());
        };
        let t_fs = self.time.map_or(0, |(_, fs)| fs);
        let mut pins = var.pins;
        while pins != 0 {
            let pin = pins.trailing_zeros() as u8;
            if level == FLOATING {
                self.builder.float(t_fs, pin);
            } else {
                self.builder.change(t_fs, pin, level);
            }
            pins &= pins - 1;
        }
        Ok(())
    }

    /// The identifier token that follows a vector or real value.
    fn operand(&mut self, value: Token) -> Result<&'a str, VcdError> {
        match self.lex.next() {
            Some(t) if t.text != "$end" => Ok(t.text),
            _ => Err(syntax(
                value.line,
                format!("value `{}` has no identifier", value.text),
            )),
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
