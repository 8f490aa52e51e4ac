//! Unit tests of `shutdown`.

use super::*;
use std::time::Instant;

#[test]
fn sleep_returns_early_when_triggered() {
    let s = Shutdown::new();
    let s2 = s.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        s2.trigger();
    });
    let start = Instant::now();
    assert!(s.sleep(Duration::from_secs(10)));
    assert!(start.elapsed() < Duration::from_secs(5));
    t.join().unwrap();
}

#[test]
fn sleep_times_out_when_not_triggered() {
    let s = Shutdown::new();
    assert!(!s.sleep(Duration::from_millis(5)));
    assert!(!s.is_triggered());
}

#[tokio::test]
async fn async_wait_sees_trigger() {
    let s = Shutdown::new();
    let s2 = s.clone();
    tokio::spawn(async move { s2.trigger() });
    tokio::time::timeout(Duration::from_secs(5), s.wait())
        .await
        .expect("wait completes");
    assert!(s.is_triggered());
}
