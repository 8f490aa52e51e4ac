//! Splits VCD text into whitespace-separated tokens, each with its 1-based line number.

/// One token and the line it starts on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'a> {
    /// The token text (never empty, never contains ASCII whitespace).
    pub text: &'a str,
    /// 1-based line number.
    pub line: usize,
}

/// Iterator over the tokens of a VCD text.
#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            line: 1,
        }
    }
}

/// VCD separates tokens by any white space; vertical tab and form feed included.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !is_space(b) {
                break;
            }
            if b == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
        let start = self.pos;
        while bytes.get(self.pos).is_some_and(|&b| !is_space(b)) {
            self.pos += 1;
        }
        // Boundaries are ASCII bytes or the ends, hence always char boundaries; `get` just
        // keeps that reasoning out of the panic path.
        let text = self.text.get(start..self.pos).filter(|t| !t.is_empty())?;
        Some(Token {
            text,
            line: self.line,
        })
    }
}
