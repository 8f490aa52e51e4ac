use super::*;

fn paths(vcio: &Path, pagemap: &Path) -> CheckPaths {
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
    let p = paths(vcio.path(), Path::new("/nonexistent/pagemap"));
    assert!(memory_method(&p, CpuView::Uncached)
        .expect("mailbox")
        .starts_with("mailbox"));
    let e = memory_method(&p, CpuView::OwnMapping).unwrap_err();
    assert!(e.contains("never for a Raspberry Pi"), "{e}");
}
