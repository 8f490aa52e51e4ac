//! Reading the device tree's binary properties: the peripheral base from `soc/ranges` and the
//! DMA channel mask the firmware leaves to Linux.
//!
//! A leaf: it knows the file formats, not the boards; `board` says what the numbers mean.

use std::path::{Path, PathBuf};

/// The `soc` node's address translation: child bus address → parent (ARM physical) address.
pub(super) const DT_SOC_RANGES: &str = "proc/device-tree/soc/ranges";

/// Address cells of the root node (the parent side of `soc/ranges`).
const DT_ROOT_ADDRESS_CELLS: &str = "proc/device-tree/#address-cells";
/// Address cells of the `soc` node (the child side of `soc/ranges`).
const DT_SOC_ADDRESS_CELLS: &str = "proc/device-tree/soc/#address-cells";
/// Size cells of the `soc` node.
const DT_SOC_SIZE_CELLS: &str = "proc/device-tree/soc/#size-cells";
/// The `soc` node where the DMA controllers live.
const DT_SOC: &str = "sys/firmware/devicetree/base/soc";
/// The legacy DMA controller (channels 0–14) node name.
const DMA_NODE: &str = "dma@7e007000";
/// Property listing the channels the firmware leaves to Linux.
const DMA_MASK_PROP: &str = "brcm,dma-channel-mask";

/// Big-endian u32 at byte `at`.
pub(super) fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// A one-cell device-tree property, or `default` when absent or malformed.
pub(super) fn read_cells(path: &Path, default: usize) -> usize {
    std::fs::read(path)
        .ok()
        .and_then(|b| be_u32(&b, 0))
        .map_or(default, |v| v as usize)
}

/// `soc/ranges` could not be read as the device tree defines it.
#[derive(Debug)]
pub(super) struct BadRanges {
    /// The ranges file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// Parent address that `soc/ranges` gives the bus address `bus_base`; `None` without the file.
///
/// `parent_default` is the root node's address cells to assume when the file saying so is
/// missing (the caller knows the SoC).
pub(super) fn read_ranges_base(
    root: &Path,
    bus_base: u32,
    parent_default: usize,
) -> Result<Option<u64>, BadRanges> {
    let path = root.join(DT_SOC_RANGES);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    let parent = read_cells(&root.join(DT_ROOT_ADDRESS_CELLS), parent_default);
    let child = read_cells(&root.join(DT_SOC_ADDRESS_CELLS), 1);
    let size = read_cells(&root.join(DT_SOC_SIZE_CELLS), 1);
    let bad = |reason: String| BadRanges {
        path: path.clone(),
        reason,
    };
    if !(1..=2).contains(&parent) || child != 1 || !(1..=2).contains(&size) {
        return Err(bad(format!(
            "unexpected cell counts (parent {parent}, child {child}, size {size})"
        )));
    }
    let entry = 4 * (child + parent + size);
    if bytes.is_empty() || bytes.len() % entry != 0 {
        return Err(bad(format!(
            "{} bytes is not a whole number of {entry}-byte entries",
            bytes.len()
        )));
    }
    for e in bytes.chunks_exact(entry) {
        if be_u32(e, 0) != Some(bus_base) {
            continue;
        }
        let hi = if parent == 2 { be_u32(e, 4) } else { Some(0) };
        let lo = be_u32(e, 4 * parent);
        if let (Some(hi), Some(lo)) = (hi, lo) {
            return Ok(Some((u64::from(hi) << 32) | u64::from(lo)));
        }
    }
    Err(bad(format!("no entry for bus address {bus_base:#x}")))
}

/// The legacy DMA controller's channel mask: its own node, else the union of the other DMA
/// nodes' masks (channel numbers are absolute in every node, so the union is the whole set).
pub(super) fn read_dma_mask(root: &Path) -> Option<u32> {
    let soc = root.join(DT_SOC);
    let read = |node: &Path| {
        std::fs::read(node.join(DMA_MASK_PROP))
            .ok()
            .and_then(|b| be_u32(&b, 0))
    };
    if let Some(m) = read(&soc.join(DMA_NODE)) {
        return Some(m);
    }
    let entries: Vec<_> = std::fs::read_dir(&soc).ok()?.flatten().collect();
    // Newer kernels name the same node `dma-controller@7e007000`.
    let unit = DMA_NODE.trim_start_matches("dma");
    if let Some(m) = entries
        .iter()
        .filter(|e| e.file_name().to_string_lossy().ends_with(unit))
        .find_map(|e| read(&e.path()))
    {
        return Some(m);
    }
    let mut union = None;
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("dma@") || name.starts_with("dma-controller@") {
            if let Some(m) = read(&entry.path()) {
                union = Some(union.unwrap_or(0) | m);
            }
        }
    }
    union
}
