//! Unit tests of `queue`.

use super::*;

#[test]
fn full_queue_drops_oldest() {
    let q = DropOldestQueue::new(2);
    assert_eq!(q.push(1), None);
    assert_eq!(q.push(2), None);
    assert_eq!(q.push(3), Some(1));
    assert_eq!(q.try_pop(), Some(2));
    assert_eq!(q.try_pop(), Some(3));
    assert_eq!(q.try_pop(), None);
}

#[tokio::test]
async fn pop_drains_then_ends_after_close() {
    let q = std::sync::Arc::new(DropOldestQueue::new(4));
    let q2 = q.clone();
    let consumer = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(v) = q2.pop().await {
            got.push(v);
        }
        got
    });
    for i in 0..3 {
        q.push(i);
        tokio::task::yield_now().await;
    }
    q.close();
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), consumer)
        .await
        .expect("consumer ends")
        .expect("no panic");
    assert_eq!(got, vec![0, 1, 2]);
}
