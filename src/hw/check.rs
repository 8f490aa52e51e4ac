//! `edgetap check`: what the DMA backend would find on this machine, and what would fail.
//!
//! Each finding is a line a user can act on; on a machine that is not a supported Pi the report
//! says so plainly instead of failing on the first missing file.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use super::board::{self, Board};
use super::dmamem::CpuView;
use super::pacing;
use super::pacing::Pacer;
use super::pagemap::page_frames;

/// One finding of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What was checked ("board", "/dev/mem", ...).
    pub what: String,
    /// Whether the DMA backend can use it as found.
    pub ok: bool,
    /// What was found, or why it would fail.
    pub detail: String,
}

impl Finding {
    /// One line: mark, what, detail; a failure is `FAIL` when it fails the check, `no` when
    /// it only informs.
    pub fn render(&self, judged: bool) -> String {
        let mark = match (self.ok, judged) {
            (true, _) => "ok  ",
            (false, true) => "FAIL",
            (false, false) => "no  ",
        };
        format!("{mark} {:<12} {}\n", self.what, self.detail)
    }
}

/// Where the check looks: `/` on a real machine, a fixture tree in tests.
#[derive(Debug, Clone)]
pub struct CheckPaths {
    /// Root of `/proc` and `/sys` (board detection).
    pub root: PathBuf,
    /// The physical-memory device.
    pub mem_device: PathBuf,
    /// The mailbox device.
    pub vcio: PathBuf,
    /// This process's pagemap.
    pub pagemap: PathBuf,
}

impl CheckPaths {
    /// The real machine's paths.
    pub fn system(mem_device: &Path) -> CheckPaths {
        CheckPaths {
            root: PathBuf::from("/"),
            mem_device: mem_device.to_path_buf(),
            vcio: PathBuf::from("/dev/vcio"),
            pagemap: PathBuf::from("/proc/self/pagemap"),
        }
    }
}

/// The whole report, with a one-line verdict.
#[derive(Debug, Clone)]
pub struct Report {
    /// Findings in the order checked.
    pub findings: Vec<Finding>,
    /// Whether `backend = "dma"` would start.
    pub dma_ready: bool,
    /// One plain sentence: can the DMA backend run here, and if not, what to use.
    pub verdict: String,
}

/// The sampler settings the check judges against the board it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaSettings {
    /// `sampler.period_us`.
    pub period_us: u32,
    /// `sampler.pacer`.
    pub pacer: Pacer,
    /// `sampler.dma_channel`; unset: the board's default.
    pub dma_channel: Option<u8>,
    /// `sampler.dma_memory`: how the CPU would reach pagemap memory.
    pub dma_memory: CpuView,
}

/// Checks what the DMA backend needs, with the sampler settings `s`.
pub fn check(paths: &CheckPaths, s: &DmaSettings) -> Report {
    let mut findings = Vec::new();
    let mut push = |what: &str, ok: bool, detail: String| {
        findings.push(Finding {
            what: what.into(),
            ok,
            detail,
        })
    };
    let board = board::detect(&paths.root);
    match &board {
        Ok(b) => {
            push(
                "board",
                true,
                format!("{} ({:?}), revision {:06x}", b.model, b.soc, b.revision),
            );
            push(
                "peripherals",
                true,
                format!(
                    "base {:#010x}, DRAM bus alias {:#010x}, PLLD {} MHz",
                    b.periph_base,
                    b.dram_bus_alias,
                    b.plld_hz / 1_000_000
                ),
            );
        }
        Err(e) => push("board", false, e.to_string()),
    }
    if let Ok(b) = &board {
        check_board_settings(b, s, &mut push);
    }
    let mem_ok = check_open(&paths.mem_device, &mut push);
    let memory = memory_method(paths, s.dma_memory);
    push(
        "DMA memory",
        memory.is_ok(),
        memory.clone().unwrap_or_else(|e| e),
    );
    let (root, why) = privileges(is_root());
    push("privileges", root, why);
    let dma_ready = findings.iter().all(|f| f.ok) && mem_ok;
    let verdict = match (&board, dma_ready) {
        (_, true) => "the dma backend can run here".to_string(),
        (Err(_), _) => "this machine is not a Raspberry Pi the DMA sampler supports: use \
                        backend = \"emulated\" (or \"replay\") here"
            .to_string(),
        (Ok(_), false) => "the dma backend would fail here: fix the findings marked FAIL".into(),
    };
    Report {
        findings,
        dma_ready,
        verdict,
    }
}

/// Channel and pacing findings for a detected board.
fn check_board_settings(b: &Board, s: &DmaSettings, push: &mut impl FnMut(&str, bool, String)) {
    let ch = s.dma_channel.unwrap_or(b.default_dma_channel);
    let mask = match b.dma_channel_mask {
        Some(m) => format!("kernel mask {m:#06x}"),
        None => "no kernel mask found".to_string(),
    };
    // The same rule `DmaSampler::open` applies (mask, channel 15, the BCM2711's DMA4 channels).
    match b.check_dma_channel(ch, true) {
        Ok(()) => push("DMA channel", true, format!("{ch} ({mask})")),
        Err(e) => push("DMA channel", false, format!("{e} ({mask})")),
    }
    let shortest = b.shortest_period_us();
    match pacing::plan(s.period_us, b.plld_hz, s.pacer) {
        Ok(p) => push(
            "pacing",
            s.period_us >= shortest,
            format!(
                "{:?}: {} µs = {} bits at PLLD/{}; this board sustains {shortest} µs or longer \
                 (two control blocks per sample at ~{} ns each){}",
                s.pacer,
                s.period_us,
                p.bits_per_frame,
                p.divi,
                b.cb_cost_ns(),
                if s.period_us < shortest {
                    ": shorter periods run late (reported as gaps)"
                } else {
                    ""
                }
            ),
        ),
        Err(e) => push("pacing", false, e.to_string()),
    }
}

/// Whether `path` opens read-write; records the finding.
fn check_open(path: &Path, push: &mut impl FnMut(&str, bool, String)) -> bool {
    let what = path.display().to_string();
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(_) => {
            push(&what, true, "opens read-write".into());
            true
        }
        Err(e) => {
            push(&what, false, format!("cannot open read-write: {e}"));
            false
        }
    }
}

/// How DMA memory would be obtained, or why it could not: the allocator's rules
/// (`sampler::dma::source`), so `check` and the sampler never disagree.
fn memory_method(paths: &CheckPaths, view: CpuView) -> Result<String, String> {
    let vcio = OpenOptions::new().read(true).write(true).open(&paths.vcio);
    if view == CpuView::OwnMapping && paths.vcio.exists() {
        return Err(format!(
            "sampler.dma_memory = \"own-mapping\" is only for QEMU or other cache-coherent \
             models, never for a Raspberry Pi, and {} exists here: remove the setting",
            paths.vcio.display()
        ));
    }
    let vcio_err = match vcio {
        Ok(_) => return Ok(format!("mailbox ({})", paths.vcio.display())),
        Err(e) => format!("{}: {e}", paths.vcio.display()),
    };
    // Look up a page we certainly own: without privilege the kernel hides its frame number.
    let probe = vec![1u8; 4096];
    match (page_frames(&paths.pagemap, probe.as_ptr() as u64, 1), view) {
        (Ok(_), CpuView::Uncached) => Ok(format!("pagemap fallback ({vcio_err})")),
        (Ok(_), CpuView::OwnMapping) => Ok(format!(
            "pagemap through this process's own cached mapping (sampler.dma_memory = \
             \"own-mapping\": QEMU / cache-coherent models only, never a Pi) ({vcio_err})"
        )),
        (Err(e), _) => Err(format!(
            "no mailbox ({vcio_err}) and no pagemap (frame numbers need CAP_SYS_ADMIN): {e}"
        )),
    }
}

/// The privileges finding: `/dev/mem` needs CAP_SYS_RAWIO, and `/proc/self/pagemap` shows
/// frame numbers only to CAP_SYS_ADMIN (others read PFN 0; Documentation/admin-guide/mm/
/// pagemap.rst, since Linux 4.2).
fn privileges(root: bool) -> (bool, String) {
    if root {
        (true, "running as root".into())
    } else {
        (
            false,
            "not root: /dev/mem needs CAP_SYS_RAWIO, and the pagemap fallback needs \
             CAP_SYS_ADMIN to see frame numbers"
                .into(),
        )
    }
}

/// Whether this process runs as root.
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl Report {
    /// Number of findings marked FAIL (`edgetap check` exits non-zero when there are any).
    pub fn failures(&self) -> usize {
        self.findings.iter().filter(|f| !f.ok).count()
    }

    /// The report as printed by `edgetap check`.
    pub fn render(&self) -> String {
        self.render_judged(true)
    }

    /// The report with failed findings marked `FAIL` when the DMA backend is the one judged
    /// (they then fail the check), `no` when another backend is.
    pub fn render_judged(&self, judged: bool) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&f.render(judged));
        }
        out.push_str(&format!("\n{}\n", self.verdict));
        out
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
