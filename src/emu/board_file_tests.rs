use super::*;

#[test]
fn a_board_file_tells_its_board_and_anything_else_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("board");
    let mem = create(&path, BoardKind::Pi3).expect("create");
    let h = read_header(&mem).expect("header");
    assert_eq!(h.board, BoardKind::Pi3);
    assert_eq!(h.periph_base, 0x3F00_0000);
    assert_eq!(h.mailbox_buffer_phys, MAILBOX_BUFFER_PHYS);
    assert_eq!(h.pid, std::process::id());

    let other = dir.path().join("not-a-board");
    std::fs::write(&other, vec![0u8; 8192]).expect("write");
    let e = read_header(&PhysMem::open(&other).expect("open")).unwrap_err();
    assert!(
        e.to_string().contains("not-a-board") && e.to_string().contains("EDGETAP-EMU"),
        "{e}"
    );
}

#[test]
fn stale_board_files_of_dead_processes_are_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dead = dir.path().join("edgetap-board-4000000-00000000000000aa");
    let alive = dir.path().join("edgetap-board-17-00000000000000bb");
    let other = dir.path().join("not-ours-4000000");
    for p in [&dead, &alive, &other] {
        std::fs::write(p, b"x").expect("write");
    }
    assert_eq!(remove_stale(dir.path(), |pid| pid == 17), 1);
    assert!(!dead.exists() && alive.exists() && other.exists());
}

#[test]
fn temporaries_are_recorded_until_removed() {
    // Only this test's own file: other tests' emulators in this process are running.
    let path = temp_path();
    std::fs::write(&path, b"board").expect("write");
    let recorded = |p: &Path| {
        TEMPORARIES
            .lock()
            .is_ok_and(|l| l.contains(&p.to_path_buf()))
    };
    assert!(recorded(&path));
    remove_temporary(&path);
    assert!(!path.exists());
    assert!(!recorded(&path));
}
