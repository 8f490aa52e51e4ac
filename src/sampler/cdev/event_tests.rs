use super::*;

/// A record laid out by hand, field by field, as gpio.h defines it (not through `encode`).
fn record(ts: u64, id: u32, offset: u32, seqno: u32, line_seqno: u32) -> [u8; RECORD_BYTES] {
    let mut r = Vec::new();
    r.extend_from_slice(&ts.to_ne_bytes());
    for v in [id, offset, seqno, line_seqno, 0, 0, 0, 0, 0, 0] {
        r.extend_from_slice(&v.to_ne_bytes());
    }
    r.try_into().expect("48 bytes")
}

#[test]
fn a_record_is_48_bytes() {
    assert_eq!(RECORD_BYTES, 48);
}

#[test]
fn rising_and_falling_records_decode_field_by_field() {
    let e = decode(&record(1_234_567_890_123, 1, 17, 5, 2)).expect("rising edge");
    assert_eq!(
        e,
        LineEvent {
            timestamp_ns: 1_234_567_890_123,
            level: 1,
            offset: 17,
            seqno: 5,
            line_seqno: 2,
        }
    );
    let e = decode(&record(u64::MAX, 2, 53, u32::MAX, 1)).expect("falling edge");
    assert_eq!((e.level, e.offset, e.seqno), (0, 53, u32::MAX));
    assert_eq!(e.timestamp_ns, u64::MAX);
}

#[test]
fn an_unknown_id_is_refused_with_its_line() {
    assert_eq!(
        decode(&record(1, 3, 22, 1, 1)),
        Err(EventError::UnknownId { id: 3, offset: 22 })
    );
    assert!(decode(&record(1, 0, 22, 1, 1)).is_err());
}

#[test]
fn several_records_decode_in_order_and_a_torn_read_is_refused() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&record(10, 1, 4, 1, 1));
    bytes.extend_from_slice(&record(20, 2, 4, 2, 2));
    let mut out = Vec::new();
    decode_all(&bytes, &mut out).expect("two whole records");
    assert_eq!(out.iter().map(|e| e.seqno).collect::<Vec<_>>(), [1, 2]);
    bytes.extend_from_slice(&[0; 7]);
    let mut out = Vec::new();
    assert_eq!(decode_all(&bytes, &mut out), Err(EventError::Partial(7)));
}

#[test]
fn encode_writes_what_decode_reads() {
    let e = LineEvent {
        timestamp_ns: 99,
        level: 0,
        offset: 6,
        seqno: 7,
        line_seqno: 3,
    };
    assert_eq!(encode(&e), record(99, 2, 6, 7, 3));
    assert_eq!(decode(&encode(&e)), Ok(e));
}
