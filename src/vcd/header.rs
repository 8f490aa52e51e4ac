//! Header pieces: `$timescale` values, `$var` declarations and the `gpio<N>` naming rule.

use super::lex::Token;
use crate::edges::MAX_PIN;

/// Femtoseconds per unit, for every unit VCD allows.
const UNITS: [(&str, u128); 6] = [
    ("s", 1_000_000_000_000_000),
    ("ms", 1_000_000_000_000),
    ("us", 1_000_000_000),
    ("ns", 1_000_000),
    ("ps", 1_000),
    ("fs", 1),
];

/// The length of one VCD time unit in femtoseconds, from the tokens of a `$timescale` section
/// (`1ns`, `1 ns`, or split over lines).
pub(crate) fn timescale_fs(tokens: &[Token]) -> Result<u128, String> {
    let text: String = tokens.iter().map(|t| t.text).collect();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = text.split_at(digits);
    let mult: u128 = match num {
        "1" => 1,
        "10" => 10,
        "100" => 100,
        _ => {
            return Err(format!(
                "bad timescale `{text}`: the number must be 1, 10 or 100"
            ))
        }
    };
    let unit_fs = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, fs)| *fs)
        .ok_or_else(|| {
            format!("bad timescale `{text}`: the unit must be s, ms, us, ns, ps or fs")
        })?;
    Ok(mult * unit_fs)
}

/// The text of a timescale of `fs` femtoseconds, if it is one VCD can express.
pub(crate) fn timescale_text(fs: u128) -> Option<String> {
    UNITS.iter().find_map(|(name, unit)| {
        [1u128, 10, 100]
            .into_iter()
            .find(|m| m * unit == fs)
            .map(|m| format!("{m} {name}"))
    })
}

/// Every timescale VCD can express, longest first.
pub(crate) fn timescales_fs() -> impl Iterator<Item = u128> {
    UNITS
        .into_iter()
        .flat_map(|(_, unit)| [100 * unit, 10 * unit, unit])
}

/// A `$var` declaration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VarDecl<'a> {
    /// Width in bits.
    pub width: u32,
    /// Identifier code used in value changes.
    pub id: &'a str,
    /// The GPIO this wire drives, if it is a 1-bit wire named `gpio<N>`.
    pub gpio: Option<u8>,
    /// The reference name, for messages.
    pub name: &'a str,
}

/// Parses the tokens between `$var` and `$end`: `type size id reference [bit-select]`.
pub(crate) fn var_decl<'a>(tokens: &[Token<'a>]) -> Result<VarDecl<'a>, String> {
    let [_kind, size, id, name, rest @ ..] = tokens else {
        return Err("$var needs a type, a size, an identifier and a name".into());
    };
    let width: u32 = size
        .text
        .parse()
        .ok()
        .filter(|w| *w > 0)
        .ok_or_else(|| format!("$var size `{}` is not a positive number", size.text))?;
    let select = match rest {
        [] => None,
        [sel] => Some(sel.text),
        _ => {
            return Err(format!(
                "$var `{}`: unexpected tokens before $end",
                name.text
            ))
        }
    };
    let gpio = gpio_of(name.text, select);
    if gpio.is_some() && width != 1 {
        tracing::warn!(
            name = name.text,
            width,
            "VCD: gpio wire wider than 1 bit ignored"
        );
    }
    Ok(VarDecl {
        width,
        id: id.text,
        gpio: gpio.filter(|_| width == 1),
        name: name.text,
    })
}

/// The GPIO a reference names: `gpio<N>` with N in 0–53 written without leading zeros, `gpio`
/// in any case, optionally followed by the bit select `[0]` (attached or as its own token).
pub(crate) fn gpio_of(name: &str, select: Option<&str>) -> Option<u8> {
    let (name, attached) = match name.find('[') {
        Some(i) => (name.get(..i)?, name.get(i..)),
        None => (name, None),
    };
    let select = match (attached, select) {
        (Some(_), Some(_)) => return None,
        (a, s) => a.or(s),
    };
    if select.is_some_and(|s| s != "[0]") {
        return None;
    }
    let prefix = name.get(..4)?;
    let digits = name.get(4..)?;
    if !prefix.eq_ignore_ascii_case("gpio") || digits.is_empty() || digits.len() > 2 {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    digits.parse::<u8>().ok().filter(|n| *n <= MAX_PIN)
}
