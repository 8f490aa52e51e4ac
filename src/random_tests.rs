use super::*;

#[test]
fn os_random_varies() {
    let a: Vec<u64> = (0..4).map(|_| os_random()).collect();
    assert!(a.windows(2).any(|w| w[0] != w[1]));
}
