//! Which GPIO chip the character-device source opens: by path, by name or by label, defaulting
//! to the label of the board's header chip. Pure: the chips found are handed in.

use std::path::{Path, PathBuf};

use super::board::Soc;

/// What `edgetap check` and the source know about one GPIO chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipInfo {
    /// Its character device (`/dev/gpiochip0`).
    pub path: PathBuf,
    /// The kernel's name for it (`gpiochip0`).
    pub name: String,
    /// What drives it (`pinctrl-rp1`, `pinctrl-bcm2711`, ...): stable across kernels, unlike
    /// the path.
    pub label: String,
    /// Lines the chip has: offsets 0 .. lines.
    pub lines: u32,
}

/// One line of a chip, as `edgetap check` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInfo {
    /// Offset on the chip.
    pub offset: u32,
    /// The line's name from the device tree (`GPIO17`, `ID_SDA`), or empty.
    pub name: String,
    /// Who holds it, or empty.
    pub consumer: String,
    /// Whether it is in use (requested, or claimed by a kernel driver).
    pub used: bool,
}

/// The label of the chip a Pi's header GPIOs are on.
pub fn header_label(soc: Soc) -> &'static str {
    match soc {
        Soc::Bcm2712 => "pinctrl-rp1",
        Soc::Bcm2711 => "pinctrl-bcm2711",
        Soc::Bcm2835 | Soc::Bcm2836 | Soc::Bcm2837 => "pinctrl-bcm2835",
    }
}

/// `sampler.cdev.chip` as given: a path (`/dev/gpiochip4`), a name (`gpiochip4`) or a label.
pub fn choose<'a>(wanted: &str, chips: &'a [ChipInfo]) -> Result<&'a ChipInfo, String> {
    let found = if wanted.starts_with('/') {
        chips.iter().find(|c| c.path == Path::new(wanted))
    } else {
        chips
            .iter()
            .find(|c| c.name == wanted)
            .or_else(|| chips.iter().find(|c| c.label == wanted))
    };
    found.ok_or_else(|| {
        if chips.is_empty() {
            format!("no GPIO chip `{wanted}`: this machine has no GPIO character devices")
        } else {
            let known: Vec<String> = chips
                .iter()
                .map(|c| format!("{} ({})", c.path.display(), c.label))
                .collect();
            format!(
                "no GPIO chip `{wanted}` (by path, name or label); found {}",
                known.join(", ")
            )
        }
    })
}

/// Checks that every watched offset exists on `chip`: names the first one that does not.
pub fn check_offsets(chip: &ChipInfo, offsets: &[u32]) -> Result<(), String> {
    match offsets.iter().find(|&&o| o >= chip.lines) {
        None => Ok(()),
        Some(o) => Err(format!(
            "pin {o} is not a line of {} ({}, lines 0-{})",
            chip.path.display(),
            chip.label,
            chip.lines.saturating_sub(1)
        )),
    }
}

#[cfg(test)]
#[path = "chipselect_tests.rs"]
mod tests;
