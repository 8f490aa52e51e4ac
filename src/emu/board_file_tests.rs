use super::*;

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
