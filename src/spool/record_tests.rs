//! Unit tests of `record`.

use super::*;

/// The reading path's checks on an in-memory record: its payload and its whole size.
fn decode(bytes: &[u8]) -> Result<(&[u8], usize), Invalid> {
    let header = parse_header(bytes, bytes.len() as u64)?;
    let end = HEADER_LEN as usize + header.len as usize;
    let payload = &bytes[HEADER_LEN as usize..end];
    verify(header, payload)?;
    Ok((payload, end))
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xAA; 3];
    encode(payload, &mut out);
    out
}

#[test]
fn round_trip_including_empty_and_binary_payloads() {
    for payload in [&b""[..], b"x", b"hello batch", &[0u8, 255, 0, 7][..]] {
        let bytes = framed(payload);
        assert_eq!(bytes.len(), HEADER_LEN as usize + payload.len());
        assert_eq!(decode(&bytes), Ok((payload, bytes.len())));
    }
}

#[test]
fn decode_stops_at_the_record_end() {
    let mut bytes = framed(b"first");
    bytes.extend_from_slice(&framed(b"second"));
    let (payload, used) = decode(&bytes).unwrap();
    assert_eq!(payload, b"first");
    assert_eq!(decode(&bytes[used..]).unwrap().0, b"second");
}

#[test]
fn a_flipped_payload_or_length_bit_is_a_crc_mismatch() {
    let good = framed(b"payload");
    for byte in (4..8).chain(HEADER_LEN as usize..good.len()) {
        let mut bad = good.clone();
        bad[byte] ^= 0x01;
        match decode(&bad) {
            Err(Invalid::Checksum { .. }) | Err(Invalid::BeyondFile { .. }) => {}
            other => panic!("byte {byte}: {other:?}"),
        }
    }
    let mut bad = good.clone();
    bad[8] ^= 0x80;
    assert!(matches!(decode(&bad), Err(Invalid::Checksum { .. })));
    for byte in 0..4 {
        let mut bad = good.clone();
        bad[byte] ^= 0x01;
        assert_eq!(decode(&bad), Err(Invalid::NoSync), "byte {byte}");
    }
}

#[test]
fn the_next_intact_record_is_found_past_damage() {
    let mut bytes = framed(b"first");
    let second = bytes.len();
    bytes.extend_from_slice(&framed(b"second"));
    bytes.extend_from_slice(&framed(b"third"));
    assert_eq!(count_intact(&bytes), 3);
    bytes[2] ^= 0x10; // inside the first record's marker
    bytes[second + 9] ^= 0x01; // the second record's length
    assert_eq!(
        find_intact(&bytes),
        Some(bytes.len() - framed(b"third").len())
    );
    assert_eq!(count_intact(&bytes), 1);
    assert_eq!(find_intact(b"no records here"), None);
}

#[test]
fn format_1_records_have_no_marker() {
    let good = framed(b"old");
    let v1 = &good[4..];
    let h = parse_framed(Framing::V1, v1, v1.len() as u64).unwrap();
    assert_eq!(h.len, 3);
    assert!(verify(h, &v1[8..]).is_ok());
}

#[test]
fn zeros_are_not_a_record() {
    assert_eq!(decode(&[0u8; 12]), Err(Invalid::NoSync));
    let mut bytes = SYNC.to_vec();
    bytes.extend_from_slice(&[0; 8]);
    assert!(matches!(
        decode(&bytes),
        Err(Invalid::Checksum { stored: 0, .. })
    ));
}

#[test]
fn short_header() {
    let bytes = framed(b"abc");
    for cut in 0..HEADER_LEN as usize {
        assert_eq!(
            decode(&bytes[..cut]),
            Err(Invalid::ShortHeader { have: cut as u64 })
        );
    }
}

#[test]
fn absurd_length_is_refused_before_any_allocation() {
    let mut bytes = SYNC.to_vec();
    bytes.extend_from_slice(&[0xFF; 4]);
    bytes.extend_from_slice(&[0; 4]);
    assert_eq!(
        decode(&bytes),
        Err(Invalid::AbsurdLength {
            len: u32::MAX.into()
        })
    );
}

#[test]
fn length_beyond_the_file() {
    let bytes = framed(b"twelve bytes");
    assert_eq!(
        decode(&bytes[..bytes.len() - 1]),
        Err(Invalid::BeyondFile { len: 12, room: 11 })
    );
}

#[test]
fn reasons_name_the_numbers() {
    let r = Invalid::BeyondFile { len: 12, room: 11 }.to_string();
    assert!(r.contains("12") && r.contains("11"), "{r}");
}
