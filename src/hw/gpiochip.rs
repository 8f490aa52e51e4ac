//! The GPIO character device itself (uAPI v2, through `gpiocdev`): list the chips, make the one
//! line request, read its raw event records and line values. Deliberately thin: what the
//! records mean, what is asked for and which chip is chosen are decided by pure code
//! ([`lineplan`](super::lineplan), [`chipselect`](super::chipselect) and the sampler's `cdev`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use gpiocdev::line::Value;
use gpiocdev::request::Request;

use super::chipselect::{ChipInfo, LineInfo};
use super::lineplan::{request_config, RequestPlan, CONSUMER};
use super::HwError;

/// Bytes of one `struct gpio_v2_line_event` (only uAPI v2 is built in: records are always v2).
pub const EVENT_BYTES: usize = 48;

/// The GPIO chips of this machine, in name order; none (no `/dev/gpiochip*`) is not an error.
pub fn chips() -> Result<Vec<ChipInfo>, HwError> {
    let paths = gpiocdev::chip::chips().map_err(|e| device("cannot list GPIO chips", &e))?;
    paths.iter().map(|p| chip_info(p)).collect()
}

/// What the chip at `path` says about itself.
pub fn chip_info(path: &Path) -> Result<ChipInfo, HwError> {
    let chip = open_chip(path)?;
    let info = chip.info().map_err(|e| gpio(path, &e))?;
    Ok(ChipInfo {
        path: path.to_path_buf(),
        name: info.name,
        label: info.label,
        lines: info.num_lines,
    })
}

/// The lines of the chip at `path`, in offset order.
pub fn lines(path: &Path) -> Result<Vec<LineInfo>, HwError> {
    let chip = open_chip(path)?;
    let iter = chip.line_info_iter().map_err(|e| gpio(path, &e))?;
    iter.map(|l| {
        l.map(|l| LineInfo {
            offset: l.offset,
            name: l.name,
            consumer: l.consumer,
            used: l.used,
        })
        .map_err(|e| gpio(path, &e))
    })
    .collect()
}

/// One line request for all watched lines, with a buffer for its raw event records.
#[derive(Debug)]
pub struct LineRequest {
    req: Request,
    path: PathBuf,
    /// Raw records as read (u64s: the kernel's alignment).
    words: Vec<u64>,
    /// The same records as bytes, for the decoder.
    bytes: Vec<u8>,
}

impl LineRequest {
    /// Requests `plan`'s lines on the chip at `path`, reading up to `read_events` records at a
    /// time.
    pub fn open(path: &Path, plan: &RequestPlan, read_events: usize) -> Result<Self, HwError> {
        let req = Request::from_config(request_config(path, plan))
            .with_consumer(CONSUMER)
            .with_kernel_event_buffer_size(plan.event_buffer)
            .request()
            .map_err(|e| gpio(path, &e))?;
        Ok(LineRequest {
            req,
            path: path.to_path_buf(),
            words: vec![0; read_events.max(1) * EVENT_BYTES / 8],
            bytes: Vec::new(),
        })
    }

    /// Changes the lines' flags (bias, polarity, debounce) in place: the lines stay requested.
    pub fn reconfigure(&mut self, plan: &RequestPlan) -> Result<(), HwError> {
        self.req
            .reconfigure(&request_config(&self.path, plan))
            .map_err(|e| gpio(&self.path, &e))
    }

    /// The lines' current (logical) levels, by offset.
    pub fn levels(&self) -> Result<Vec<(u32, u8)>, HwError> {
        let mut values = gpiocdev::line::Values::default();
        self.req
            .values(&mut values)
            .map_err(|e| gpio(&self.path, &e))?;
        Ok(values
            .iter()
            .map(|lv| (lv.offset, u8::from(lv.value == Value::Active)))
            .collect())
    }

    /// Waits up to `timeout` for events; true if there are some to read.
    pub fn wait(&self, timeout: Duration) -> Result<bool, HwError> {
        self.req
            .wait_edge_event(timeout)
            .map_err(|e| gpio(&self.path, &e))
    }

    /// Reads the waiting event records (call after [`wait`](Self::wait) said there are some):
    /// whole `gpio_v2_line_event`s, as the kernel wrote them.
    pub fn read(&mut self) -> Result<&[u8], HwError> {
        let n = self
            .req
            .read_edge_events_into_slice(&mut self.words)
            .map_err(|e| gpio(&self.path, &e))?;
        self.bytes.clear();
        for w in self.words.iter().take(n) {
            self.bytes.extend_from_slice(&w.to_ne_bytes());
        }
        Ok(&self.bytes)
    }
}

fn open_chip(path: &Path) -> Result<gpiocdev::Chip, HwError> {
    gpiocdev::Chip::from_path(path).map_err(|e| gpio(path, &e))
}

fn gpio(path: &Path, e: &gpiocdev::Error) -> HwError {
    HwError::Device(format!("{}: {e}", path.display()))
}

fn device(what: &str, e: &gpiocdev::Error) -> HwError {
    HwError::Device(format!("{what}: {e}"))
}
