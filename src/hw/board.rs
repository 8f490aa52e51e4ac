//! Which Raspberry Pi this is, read from the files the kernel exports under a root directory
//! (`/` on a Pi, a fixture directory in tests), and the figures the DMA sampler needs from it.
//!
//! Pure: no registers are touched, so a wrong guess here costs an error message, never a
//! write to the wrong physical address.

use std::path::{Path, PathBuf};

use super::channel::check_channel;
use super::devicetree::{be_u32, read_dma_mask, read_ranges_base, BadRanges, DT_SOC_RANGES};
use super::regs::{mbox, mem, PERIPH_BUS_BASE};
use super::HwError;
use serde::{Deserialize, Serialize};

/// The boards the emulator models (`sampler.emulated.board`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardKind {
    /// Raspberry Pi 1 B+ / Zero (BCM2835): peripherals at 0x20000000, DRAM bus alias
    /// 0x40000000, mailbox flags 0xC, PLLD 500 MHz.
    Pi1,
    /// Raspberry Pi 3 (BCM2837): peripherals at 0x3F000000, PLLD 500 MHz.
    Pi3,
    /// Raspberry Pi 4 (BCM2711): peripherals at 0xFE000000, PLLD 750 MHz.
    Pi4,
}

/// Board revision as a big-endian u32 in the device tree (kernels since ~4.9).
const DT_REVISION: &str = "proc/device-tree/system/linux,revision";
/// The `Revision` line of cpuinfo (every 32-bit kernel, the Pi's own arm64 kernels).
const CPUINFO: &str = "proc/cpuinfo";
/// The root node's compatible strings: what names the SoC when neither of the above exists
/// (a mainline arm64 kernel booted without the Pi firmware, as under QEMU's raspi3b).
const DT_COMPATIBLE: &str = "proc/device-tree/compatible";
/// The root node's model string.
const DT_MODEL: &str = "proc/device-tree/model";

/// New-style revision codes have this bit set.
const REV_NEW_STYLE: u32 = 1 << 23;
/// Old-style codes carry the warranty-void flag here; it is not part of the code.
const REV_OLD_WARRANTY: u32 = 1 << 24;
/// New-style: processor field shift and mask.
const REV_SOC_SHIFT: u32 = 12;
/// Width mask of the 4-bit processor field.
const REV_SOC_MASK: u32 = 0xF;
/// New-style: board type field shift and mask.
const REV_TYPE_SHIFT: u32 = 4;
/// Width mask of the 8-bit type field.
const REV_TYPE_MASK: u32 = 0xFF;

/// Peripheral base of the BCM2835 (Pi 1, Zero).
const BASE_BCM2835: u64 = 0x2000_0000;
/// Peripheral base of the BCM2836/7 (Pi 2, 3, Zero 2).
const BASE_BCM2837: u64 = 0x3F00_0000;
/// Peripheral base of the BCM2711 in its default "low peripheral" mode.
const BASE_BCM2711: u64 = 0xFE00_0000;
/// Peripheral base of the BCM2711 with `arm_peri_high=1` (the device tree then says so).
const BASE_BCM2711_HIGH: u64 = 0x4_7E00_0000;
/// PLLD of the BCM2835/6/7.
const PLLD_HZ_500: u64 = 500_000_000;
/// PLLD of the BCM2711.
const PLLD_HZ_750: u64 = 750_000_000;
/// pigpio's default channel on Pi ≤ 3: the highest one the firmware leaves to Linux.
const DEFAULT_CHANNEL_PI3: u8 = 14;
/// pigpio's default channel on Pi 4 (11–14 are DMA4 engines with another CB format there).
const DEFAULT_CHANNEL_PI4: u8 = 7;

/// DRAM the legacy DMA engines (channels 0–10 on BCM2711, all on BCM2835/6/7) can address:
/// the first GiB. BCM2711's device tree says so: `dma-ranges = <0xc0000000 0x0 0x00000000
/// 0x40000000>` (arch/arm/boot/dts/bcm2711.dtsi, "Emulate a contiguous 30-bit address range for
/// DMA"): bus 0xC000_0000 + x is physical x for x below 1 GiB, and nothing else. On the older
/// SoCs the bus aliases (0x0/0x4/0x8/0xC…) each cover the same 1 GiB.
pub const DMA_DRAM_REACH: u64 = 0x4000_0000;

/// BCM2711 channels 11–14 are DMA4 engines: another register and CB format than this chain's.
const BCM2711_DMA4_CHANNELS: std::ops::RangeInclusive<u8> = 11..=14;

/// The SoC families the revision code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Soc {
    /// Pi 1, Zero, Zero W.
    Bcm2835,
    /// Pi 2 B (early).
    Bcm2836,
    /// Pi 2 B v1.2, Pi 3, Zero 2 W, CM3.
    Bcm2837,
    /// Pi 4, 400, CM4.
    Bcm2711,
    /// Pi 5 (GPIO behind RP1: no DMA path for this sampler).
    Bcm2712,
}

/// What the DMA sampler needs to know about the board it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Human model name, e.g. "Raspberry Pi 3B+".
    pub model: String,
    /// The revision code as read (warranty bit included).
    pub revision: u32,
    /// The SoC.
    pub soc: Soc,
    /// Physical address of the peripherals (what `/dev/mem` is mapped at).
    pub periph_base: u64,
    /// DRAM bus alias the DMA engine must use for our memory.
    pub dram_bus_alias: u32,
    /// PLLD frequency, the pacing clock's source.
    pub plld_hz: u64,
    /// Mailbox allocation flags for uncached DMA memory.
    pub mailbox_flags: u32,
    /// DMA channel used when the config names none.
    pub default_dma_channel: u8,
    /// `brcm,dma-channel-mask` of the DMA controller, when the device tree has one.
    pub dma_channel_mask: Option<u32>,
}

/// Why the board could not be identified or is not usable by the DMA sampler.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// No revision code anywhere.
    #[error(
        "not a Raspberry Pi: no board revision in {tried}; use backend = \"replay\" or \"emulated\""
    )]
    NotAPi {
        /// The files looked at.
        tried: String,
    },
    /// A revision code that is not hex or names no known SoC/board.
    #[error("{path}: board revision {value:?} is not one this agent knows")]
    BadRevision {
        /// The file it came from.
        path: PathBuf,
        /// The text or code read.
        value: String,
    },
    /// A Pi 5: GPIO sits behind RP1, out of reach of this DMA sampler.
    #[error(
        "{model} (BCM2712): GPIO is behind RP1 and cannot be sampled by the BCM283x DMA engine; \
         use the GPIO character-device backend (backend = \"cdev\")"
    )]
    Pi5 {
        /// The model name.
        model: String,
    },
    /// The device tree's address ranges could not be read or disagree with the SoC.
    #[error("{path}: {reason}")]
    Ranges {
        /// The ranges file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Identifies the board from the files under `root` (`/` on a Pi).
pub fn detect(root: &Path) -> Result<Board, BoardError> {
    let (revision, soc, model) = identify_revision(root)?;
    if soc == Soc::Bcm2712 {
        return Err(BoardError::Pi5 { model });
    }
    detect_figures(root, revision, soc, model)
}

/// The SoC and model of the Pi under `root`, any Pi (the Pi 5 included): enough to know its
/// GPIO chip, not its DMA figures.
pub fn identify(root: &Path) -> Result<(Soc, String), BoardError> {
    identify_revision(root).map(|(_, soc, model)| (soc, model))
}

/// Revision code (0 when only the device tree names the SoC), SoC and model.
fn identify_revision(root: &Path) -> Result<(u32, Soc, String), BoardError> {
    Ok(match read_revision(root) {
        Ok((revision, source)) => {
            let (soc, model) =
                decode_revision(revision).ok_or_else(|| BoardError::BadRevision {
                    path: source.clone(),
                    value: format!("{revision:x}"),
                })?;
            (revision, soc, model)
        }
        // No revision code: the SoC from the device tree, the revision unknown (0).
        Err(e @ BoardError::NotAPi { .. }) => match soc_from_compatible(root) {
            Some((soc, model)) => (0, soc, model),
            None => return Err(e),
        },
        Err(e) => return Err(e),
    })
}

/// The DMA figures of a BCM283x/BCM2711 board: its address ranges checked against the SoC.
fn detect_figures(
    root: &Path,
    revision: u32,
    soc: Soc,
    model: String,
) -> Result<Board, BoardError> {
    // The 2711's root node has two address cells (64-bit ARM physical addresses); the older
    // SoCs one. The files say so; the SoC is the fallback when they are missing.
    let parent_cells = if soc == Soc::Bcm2711 { 2 } else { 1 };
    let ranges = read_ranges_base(root, PERIPH_BUS_BASE, parent_cells)
        .map_err(|BadRanges { path, reason }| BoardError::Ranges { path, reason })?;
    let periph_base = match ranges {
        Some(base) if accepted_bases(soc).contains(&base) => base,
        Some(base) => {
            return Err(BoardError::Ranges {
                path: root.join(DT_SOC_RANGES),
                reason: format!(
                    "peripheral base {base:#x} is not one a {soc:?} uses ({:#x})",
                    known_base(soc)
                ),
            })
        }
        None => known_base(soc),
    };
    Ok(Board {
        model,
        revision,
        soc,
        periph_base,
        dma_channel_mask: read_dma_mask(root),
        ..figures(soc)
    })
}

impl Board {
    /// The board the emulator models for `kind`, as `detect` would report it on that board.
    pub fn emulated(kind: BoardKind) -> Board {
        let (revision, soc) = match kind {
            // New-style code: BCM2835, type 0x03 (1B+).
            BoardKind::Pi1 => (0x0090_0032, Soc::Bcm2835),
            BoardKind::Pi3 => (0x00a0_2082, Soc::Bcm2837),
            BoardKind::Pi4 => (0x00c0_3114, Soc::Bcm2711),
        };
        let model = decode_revision(revision)
            .map(|(_, m)| m)
            .unwrap_or_default();
        // The masks of those boards' device trees (tests/fixtures/boards), so channel
        // choice runs on the emulated board as on a Pi.
        // bcm283x.dtsi gives the BCM2835/6/7 boards the same mask.
        let mask = match kind {
            BoardKind::Pi1 | BoardKind::Pi3 => 0x7F35,
            BoardKind::Pi4 => 0x01F5,
        };
        Board {
            model,
            revision,
            dma_channel_mask: Some(mask),
            ..figures(soc)
        }
    }

    /// Channels to try when the config names none: the board's default first, then the
    /// others the device tree leaves to Linux, highest first (Linux hands its pool out lowest
    /// first), each passing [`Board::check_dma_channel`].
    pub fn dma_channel_candidates(&self) -> Vec<u8> {
        let mut v = vec![self.default_dma_channel];
        if let Some(mask) = self.dma_channel_mask {
            v.extend(
                (0..=super::regs::dma::MAX_CHANNEL)
                    .rev()
                    .filter(|&c| mask & (1 << c) != 0 && c != self.default_dma_channel),
            );
        }
        v.retain(|&c| self.check_dma_channel(c, true).is_ok());
        v
    }

    /// Checks DMA channel `n` on this board: [`check_channel`] with the board's mask, plus the
    /// BCM2711's DMA4 channels, which the legacy CB format cannot drive.
    pub fn check_dma_channel(&self, n: u8, lite_ok: bool) -> Result<(), HwError> {
        if self.soc == Soc::Bcm2711 && BCM2711_DMA4_CHANNELS.contains(&n) {
            return Err(HwError::Settings {
                field: "sampler.dma_channel".into(),
                reason: format!(
                    "channel {n} is a DMA4 engine on the {} (11-14); use 0-10",
                    self.model
                ),
            });
        }
        check_channel(n, self.dma_channel_mask, lite_ok)
    }

    /// DMA bus address of DRAM at physical `phys` (below 1 GiB, as mailbox memory is).
    pub fn dram_bus(&self, phys: u64) -> u32 {
        (phys as u32 & !mem::BUS_ALIAS_MASK) | self.dram_bus_alias
    }

    /// Emulated-time cost of one control block on this SoC (ns): the inverse of the rates
    /// measured on real boards when every CB does one small transfer (docs/hardware.md,
    /// "Measured limits": Pi 1 ≈ 2.75 M CB/s, Pi 3 ≈ 2.3 M, Pi 4 ≈ 1.8 M).
    pub fn cb_cost_ns(&self) -> u32 {
        match self.soc {
            Soc::Bcm2835 => 364,
            Soc::Bcm2836 | Soc::Bcm2837 => 435,
            Soc::Bcm2711 | Soc::Bcm2712 => 556,
        }
    }

    /// The shortest whole-µs sample period the engine sustains here: each sample costs two
    /// control blocks (level read, paced write), plus one tick CB per block (a few per mille).
    pub fn shortest_period_us(&self) -> u32 {
        (2 * self.cb_cost_ns() + 2).div_ceil(1000)
    }

    /// DMA bus address of the DRAM page at physical `phys`, refusing a page the legacy DMA
    /// engines cannot reach (above [`DMA_DRAM_REACH`]): ORing the alias into such an address
    /// would name another page in the first GiB, and the engine would write there.
    pub fn dma_bus_of_page(&self, phys: u64) -> Result<u32, HwError> {
        if phys.saturating_add(mem::PAGE_BYTES as u64) > DMA_DRAM_REACH {
            return Err(HwError::Device(format!(
                "DMA memory page at physical {phys:#x} lies above the first GiB, which the \
                 {:?}'s DMA engine cannot reach (bcm2711.dtsi dma-ranges: bus 0xc0000000 = \
                 physical 0, 1 GiB); use the mailbox (/dev/vcio), whose memory is below it",
                self.soc
            )));
        }
        Ok(self.dram_bus(phys))
    }

    /// Physical address of the DRAM bus address `bus` (any alias).
    pub fn dram_phys(&self, bus: u32) -> u64 {
        u64::from(bus & !mem::BUS_ALIAS_MASK)
    }
}

/// The SoC-fixed figures (model, revision and mask left empty).
fn figures(soc: Soc) -> Board {
    let (dram_bus_alias, mailbox_flags) = if soc == Soc::Bcm2835 {
        // No uncached alias works for DMA on the 2835: it needs the L2-coherent one.
        (
            mem::BUS_ALIAS_L2_COHERENT,
            mbox::MEM_FLAG_DIRECT | mbox::MEM_FLAG_COHERENT,
        )
    } else {
        (mem::BUS_ALIAS_DIRECT, mbox::MEM_FLAG_DIRECT)
    };
    let pi4 = soc == Soc::Bcm2711;
    Board {
        model: String::new(),
        revision: 0,
        soc,
        periph_base: known_base(soc),
        dram_bus_alias,
        plld_hz: if pi4 { PLLD_HZ_750 } else { PLLD_HZ_500 },
        mailbox_flags,
        default_dma_channel: if pi4 {
            DEFAULT_CHANNEL_PI4
        } else {
            DEFAULT_CHANNEL_PI3
        },
        dma_channel_mask: None,
    }
}

/// The peripheral base a SoC uses by default.
fn known_base(soc: Soc) -> u64 {
    match soc {
        Soc::Bcm2835 => BASE_BCM2835,
        Soc::Bcm2836 | Soc::Bcm2837 => BASE_BCM2837,
        Soc::Bcm2711 | Soc::Bcm2712 => BASE_BCM2711,
    }
}

/// Bases the device tree may legitimately report for a SoC.
fn accepted_bases(soc: Soc) -> Vec<u64> {
    let mut v = vec![known_base(soc)];
    if soc == Soc::Bcm2711 {
        v.push(BASE_BCM2711_HIGH);
    }
    v
}

/// The revision code and the file it came from: device tree first, then cpuinfo.
fn read_revision(root: &Path) -> Result<(u32, PathBuf), BoardError> {
    let dt = root.join(DT_REVISION);
    if let Ok(bytes) = std::fs::read(&dt) {
        if let Some(rev) = be_u32(&bytes, 0) {
            return Ok((rev, dt));
        }
    }
    let cpuinfo = root.join(CPUINFO);
    if let Ok(text) = std::fs::read_to_string(&cpuinfo) {
        let line = text.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "Revision").then(|| value.trim().to_string())
        });
        if let Some(value) = line {
            return u32::from_str_radix(&value, 16)
                .map(|rev| (rev, cpuinfo.clone()))
                .map_err(|_| BoardError::BadRevision {
                    path: cpuinfo,
                    value,
                });
        }
    }
    Err(BoardError::NotAPi {
        tried: format!(
            "{}, {} and {}",
            dt.display(),
            cpuinfo.display(),
            root.join(DT_COMPATIBLE).display()
        ),
    })
}

/// SoC and model from the root node's `compatible` and `model` (mainline naming:
/// `"raspberrypi,3-model-b", "brcm,bcm2837"`); `None` when no string names a SoC we know.
fn soc_from_compatible(root: &Path) -> Option<(Soc, String)> {
    let bytes = std::fs::read(root.join(DT_COMPATIBLE)).ok()?;
    let soc = bytes
        .split(|&b| b == 0)
        .filter_map(|s| std::str::from_utf8(s).ok())
        .find_map(|c| match c {
            "brcm,bcm2835" => Some(Soc::Bcm2835),
            "brcm,bcm2836" => Some(Soc::Bcm2836),
            "brcm,bcm2837" => Some(Soc::Bcm2837),
            "brcm,bcm2711" => Some(Soc::Bcm2711),
            "brcm,bcm2712" => Some(Soc::Bcm2712),
            _ => None,
        })?;
    let model = std::fs::read(root.join(DT_MODEL))
        .ok()
        .map(|m| {
            String::from_utf8_lossy(&m)
                .trim_end_matches('\0')
                .trim()
                .to_string()
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("Raspberry Pi ({soc:?})"));
    Some((soc, model))
}

/// SoC and model name of a revision code; `None` for codes this agent does not know.
pub fn decode_revision(rev: u32) -> Option<(Soc, String)> {
    if rev & REV_NEW_STYLE == 0 {
        // Old-style codes are all BCM2835 boards; the warranty flag rides above the code.
        let name = match rev & !REV_OLD_WARRANTY {
            0x02..=0x06 | 0x0d..=0x0f => "1B",
            0x07..=0x09 => "1A",
            0x10 | 0x13 => "1B+",
            0x11 | 0x14 => "CM1",
            0x12 | 0x15 => "1A+",
            _ => return None,
        };
        return Some((Soc::Bcm2835, format!("Raspberry Pi {name}")));
    }
    let soc = match (rev >> REV_SOC_SHIFT) & REV_SOC_MASK {
        0 => Soc::Bcm2835,
        1 => Soc::Bcm2836,
        2 => Soc::Bcm2837,
        3 => Soc::Bcm2711,
        4 => Soc::Bcm2712,
        _ => return None,
    };
    let name = match (rev >> REV_TYPE_SHIFT) & REV_TYPE_MASK {
        0x00 => "1A",
        0x01 => "1B",
        0x02 => "1A+",
        0x03 => "1B+",
        0x04 => "2B",
        0x06 => "CM1",
        0x08 => "3B",
        0x09 => "Zero",
        0x0A => "CM3",
        0x0C => "Zero W",
        0x0D => "3B+",
        0x0E => "3A+",
        0x10 => "CM3+",
        0x11 => "4B",
        0x12 => "Zero 2 W",
        0x13 => "400",
        0x14 => "CM4",
        0x15 => "CM4S",
        0x17 => "5",
        0x18 => "CM5",
        0x19 => "500",
        0x1A => "CM5 Lite",
        _ => return None,
    };
    Some((soc, format!("Raspberry Pi {name}")))
}

#[cfg(test)]
#[path = "board_tests.rs"]
mod tests;
