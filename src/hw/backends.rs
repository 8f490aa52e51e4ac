//! `edgetap check`, beyond DMA: the GPIO chips and lines this machine has, whether the
//! character-device backend can run, and which backend to use. The survey reads the chips; the
//! judgement and the recommendation are pure, tested on crafted boards and chips.

use super::board::Soc;
use super::check::Finding;
use super::chipselect::{self, ChipInfo, LineInfo};

/// What the check found of the board: a Pi (SoC, model), or why it is not one.
pub type BoardId = Result<(Soc, String), String>;

/// A backend `check` can judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The DMA sampler (`backend = "dma"`).
    Dma,
    /// The GPIO character device (`backend = "cdev"`).
    Cdev,
}

impl BackendKind {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Dma => "dma",
            BackendKind::Cdev => "cdev",
        }
    }
}

/// The chips found, each with its lines (or why they could not be read).
#[derive(Debug, Clone, Default)]
pub struct GpioSurvey {
    /// Chips in name order.
    pub chips: Vec<(ChipInfo, Result<Vec<LineInfo>, String>)>,
    /// Why the chips could not be listed at all.
    pub error: Option<String>,
}

impl GpioSurvey {
    /// Lists this machine's GPIO chips and their lines.
    pub fn system() -> GpioSurvey {
        match super::gpiochip::chips() {
            Ok(chips) => GpioSurvey {
                chips: chips
                    .into_iter()
                    .map(|c| {
                        let lines = super::gpiochip::lines(&c.path).map_err(|e| e.to_string());
                        (c, lines)
                    })
                    .collect(),
                error: None,
            },
            Err(e) => GpioSurvey {
                chips: Vec::new(),
                error: Some(e.to_string()),
            },
        }
    }

    /// The chips alone.
    pub fn chip_infos(&self) -> Vec<ChipInfo> {
        self.chips.iter().map(|(c, _)| c.clone()).collect()
    }

    /// The chips and their lines, as `edgetap check` prints them.
    pub fn render(&self) -> String {
        let mut out = String::from("GPIO chips:\n");
        if let Some(e) = &self.error {
            out.push_str(&format!("  cannot list them: {e}\n"));
        } else if self.chips.is_empty() {
            out.push_str("  none (no /dev/gpiochip* on this machine)\n");
        }
        for (chip, lines) in &self.chips {
            out.push_str(&format!(
                "  {}  {}  {} lines\n",
                chip.path.display(),
                chip.label,
                chip.lines
            ));
            match lines {
                Err(e) => out.push_str(&format!("    lines unreadable: {e}\n")),
                Ok(lines) => {
                    for l in lines {
                        let name = if l.name.is_empty() { "-" } else { &l.name };
                        let used = match (l.used, l.consumer.is_empty()) {
                            (false, _) => String::new(),
                            (true, true) => "  in use".into(),
                            (true, false) => format!("  in use by {}", l.consumer),
                        };
                        out.push_str(&format!("    {:>3} {name}{used}\n", l.offset));
                    }
                }
            }
        }
        out
    }
}

/// Whether the character-device backend can start with `sampler.cdev.chip` = `wanted` on
/// `board` with `chips`.
pub fn cdev_finding(board: &BoardId, wanted: Option<&str>, chips: &[ChipInfo]) -> Finding {
    let finding = |ok, detail| Finding {
        what: "GPIO chip".into(),
        ok,
        detail,
    };
    if chips.is_empty() {
        return finding(
            false,
            "no GPIO character devices (/dev/gpiochip*): the cdev backend cannot run here".into(),
        );
    }
    let wanted = match (wanted, board) {
        (Some(w), _) => w.to_string(),
        (None, Ok((soc, _))) => chipselect::header_label(*soc).to_string(),
        (None, Err(_)) => {
            let found: Vec<String> = chips
                .iter()
                .map(|c| format!("{} ({})", c.path.display(), c.label))
                .collect();
            return finding(
                false,
                format!(
                    "not a Pi: set sampler.cdev.chip to the chip your inputs are on ({})",
                    found.join(", ")
                ),
            );
        }
    };
    match chipselect::choose(&wanted, chips) {
        Ok(c) => finding(
            true,
            format!(
                "{} ({}, {} lines) for backend = \"cdev\"",
                c.path.display(),
                c.label,
                c.lines
            ),
        ),
        Err(e) => finding(false, format!("sampler.cdev.chip: {e}")),
    }
}

/// Which backend to use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// The backend to use; `None` when neither can run.
    pub backend: Option<BackendKind>,
    /// One plain sentence.
    pub why: String,
}

/// The backend for `board`: DMA on a Pi 1–4 where it can run (`dma_ready`), the character
/// device on a Pi 5, on other boards, and on a Pi 1–4 where DMA cannot run but chips exist.
pub fn recommend(board: &BoardId, dma_ready: bool, chips_found: bool) -> Recommendation {
    let pick = |backend, why: &str| Recommendation {
        backend: Some(backend),
        why: why.to_string(),
    };
    match board {
        Ok((Soc::Bcm2712, _)) if chips_found => pick(
            BackendKind::Cdev,
            "use backend = \"cdev\": a Pi 5's GPIO is behind RP1, out of the DMA engine's reach",
        ),
        Ok((soc, _)) if *soc != Soc::Bcm2712 && dma_ready => pick(
            BackendKind::Dma,
            "use backend = \"dma\": sampled at a fixed period, µs timing without an interrupt \
             per edge (backend = \"cdev\" also works here)",
        ),
        Ok(_) if chips_found => pick(
            BackendKind::Cdev,
            "use backend = \"cdev\": the dma backend cannot run here as found (see its \
             findings), the GPIO character device can",
        ),
        Err(_) if chips_found => pick(
            BackendKind::Cdev,
            "use backend = \"cdev\" (with sampler.cdev.chip): the DMA sampler is for \
             Raspberry Pi 1-4 only; the GPIO character device works on any Linux board",
        ),
        _ => Recommendation {
            backend: None,
            why: "neither dma nor cdev can run here: use backend = \"emulated\" (or \
                  \"replay\") on this machine"
                .into(),
        },
    }
}

#[cfg(test)]
#[path = "backends_tests.rs"]
mod tests;
