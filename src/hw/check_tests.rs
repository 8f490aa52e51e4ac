//! Unit tests of `check`.

use super::*;
use crate::sampler::SamplerConfig;

fn paths(board: &str, mem: &Path) -> CheckPaths {
    CheckPaths {
        root: Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/boards")
            .join(board),
        mem_device: mem.to_path_buf(),
        vcio: PathBuf::from("/nonexistent/vcio"),
        pagemap: PathBuf::from("/nonexistent/pagemap"),
    }
}

fn finding<'a>(r: &'a Report, what: &str) -> &'a Finding {
    r.findings
        .iter()
        .find(|f| f.what == what)
        .unwrap_or_else(|| panic!("no {what} finding in {r:?}"))
}

#[test]
fn a_pi4_fixture_reports_board_channel_pacing_and_what_fails() {
    let mem = tempfile::NamedTempFile::new().expect("temp");
    let r = check(
        &paths("pi4b", mem.path()),
        &(&SamplerConfig::default()).into(),
    );
    assert!(finding(&r, "board").ok && finding(&r, "board").detail.contains("4"));
    assert!(
        finding(&r, "peripherals").detail.contains("0xfe000000"),
        "{r:?}"
    );
    assert!(finding(&r, "DMA channel").detail.starts_with('7'), "{r:?}");
    assert!(finding(&r, "pacing").ok, "{r:?}");
    assert!(
        finding(&r, "pacing").detail.contains("sustains 2 µs"),
        "{r:?}"
    );
    let fast = SamplerConfig {
        period_us: 1,
        ..SamplerConfig::default()
    };
    let r = check(&paths("pi4b", mem.path()), &(&fast).into());
    let p = finding(&r, "pacing");
    assert!(!p.ok && p.detail.contains("run late"), "{p:?}");
    let m = finding(&r, "DMA memory");
    assert!(!m.ok && m.detail.contains("/nonexistent/vcio"), "{m:?}");
    assert!(!r.dma_ready);
    assert!(r.verdict.contains("would fail"), "{}", r.verdict);
    assert!(r.render().contains("FAIL DMA memory"));
}

#[test]
fn check_refuses_the_channels_open_refuses() {
    let mem = tempfile::NamedTempFile::new().expect("temp");
    // A Pi 400 whose device tree has no mask: 11-14 are DMA4 engines all the same.
    for ch in [11, 12, 14, 15] {
        let s = SamplerConfig {
            dma_channel: Some(ch),
            ..SamplerConfig::default()
        };
        let r = check(&paths("pi400", mem.path()), &(&s).into());
        let f = finding(&r, "DMA channel");
        assert!(!f.ok, "channel {ch}: {f:?}");
    }
}

#[test]
fn the_privileges_finding_names_the_capabilities() {
    let (ok, why) = privileges(false);
    assert!(!ok && why.contains("CAP_SYS_ADMIN") && why.contains("CAP_SYS_RAWIO"));
}

#[test]
fn a_pi5_points_to_the_cdev_backend() {
    let mem = tempfile::NamedTempFile::new().expect("temp");
    let r = check(
        &paths("pi5", mem.path()),
        &(&SamplerConfig::default()).into(),
    );
    let b = finding(&r, "board");
    assert!(!b.ok && b.detail.contains("cdev"), "{b:?}");
    assert!(r
        .verdict
        .contains("not a Raspberry Pi the DMA sampler supports"));
}

fn view_paths(vcio: &Path, pagemap: &Path) -> CheckPaths {
    CheckPaths {
        root: PathBuf::from("/nonexistent"),
        mem_device: PathBuf::from("/nonexistent/mem"),
        vcio: vcio.to_path_buf(),
        pagemap: pagemap.to_path_buf(),
    }
}

#[test]
fn check_refuses_the_own_mapping_where_the_mailbox_exists_as_the_allocator_does() {
    let vcio = tempfile::NamedTempFile::new().expect("temp");
    let p = view_paths(vcio.path(), Path::new("/nonexistent/pagemap"));
    assert!(memory_method(&p, CpuView::Uncached)
        .expect("mailbox")
        .starts_with("mailbox"));
    let e = memory_method(&p, CpuView::OwnMapping).unwrap_err();
    assert!(e.contains("never for a Raspberry Pi"), "{e}");
}
