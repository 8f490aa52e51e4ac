use super::*;

fn too_big(size: usize) -> ConnectionError {
    ConnectionError::MqttState(StateError::Deserialization(
        rumqttc::Error::PayloadSizeLimitExceeded(size),
    ))
}

#[test]
fn only_a_size_error_is_an_oversized_message() {
    assert_eq!(oversize(&too_big(4_300_000)), Some(4_300_000));
    let io = ConnectionError::Io(std::io::Error::other("reset"));
    assert_eq!(oversize(&io), None);
    assert_eq!(oversize(&ConnectionError::NetworkTimeout), None);
}

#[test]
fn a_message_up_to_the_cap_is_read_and_a_bigger_one_dropped_by_a_clean_session() {
    assert_eq!(remedy(4_300_000), Remedy::Raise(4_300_000));
    assert_eq!(remedy(READ_CAP), Remedy::Raise(READ_CAP));
    assert_eq!(remedy(READ_CAP + 1), Remedy::Clean);
}
