//! Record framing: `[sync: 4 bytes][len: u32 LE][crc32c: u32 LE][payload]`, the CRC-32C
//! (Castagnoli) taken over the four length bytes and the payload.
//!
//! The length is inside the checksum so a flipped length bit is caught as surely as a flipped
//! payload bit; a run of zero bytes (what some file systems show after power loss) does not pass
//! either, since the CRC-32C of four zero bytes is not zero.
//!
//! The sync marker lets a reader find the next record after a damaged one (bit rot in the
//! middle of a segment): it looks for the marker and takes the first candidate whose length and
//! CRC hold. The marker's first two bytes are never valid UTF-8, so a JSON payload cannot hold
//! it. Segments of format 1 (written before the marker existed) use [`Framing::V1`]:
//! `[len][crc][payload]`, read as before, without resynchronisation.

use std::fmt;

/// Bytes of framing before each payload (the current format).
pub const HEADER_LEN: u64 = 12;

/// Marks the start of every record of the current format.
pub const SYNC: [u8; 4] = [0xE7, 0x7A, 0xC3, 0x28];

/// How the records of a segment are framed, by the segment's format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Format 1: `[len][crc][payload]`, no sync marker.
    V1,
    /// Format 2 (current): `[sync][len][crc][payload]`.
    V2,
}

impl Framing {
    /// Bytes of framing before each payload.
    pub fn header_len(self) -> u64 {
        match self {
            Framing::V1 => 8,
            Framing::V2 => HEADER_LEN,
        }
    }
}

/// Largest payload a record may carry: MQTT's own packet limit (256 MiB). A length above it can
/// only be garbage, and would otherwise make recovery allocate whatever a torn header claims.
pub const MAX_PAYLOAD: u64 = 256 * 1024 * 1024 - 1;

/// Why bytes on disk are not a whole, intact record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// Fewer bytes left than a record header.
    ShortHeader {
        /// Bytes left.
        have: u64,
    },
    /// A length no record can have.
    AbsurdLength {
        /// The length read.
        len: u64,
    },
    /// A length running past the end of the file.
    BeyondFile {
        /// The length read.
        len: u64,
        /// Payload bytes actually left.
        room: u64,
    },
    /// No sync marker where a record should start.
    NoSync,
    /// The checksum does not match the length and payload.
    Checksum {
        /// The CRC stored in the header.
        stored: u32,
        /// The CRC of what is on disk.
        computed: u32,
    },
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::ShortHeader { have } => {
                write!(f, "short header: {have} bytes")
            }
            Invalid::NoSync => write!(f, "no record marker"),
            Invalid::AbsurdLength { len } => {
                write!(f, "length {len} is over the {MAX_PAYLOAD}-byte limit")
            }
            Invalid::BeyondFile { len, room } => {
                write!(
                    f,
                    "length {len} runs past the end of the file ({room} bytes left)"
                )
            }
            Invalid::Checksum { stored, computed } => {
                write!(
                    f,
                    "CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
                )
            }
        }
    }
}

/// A record header whose length is plausible; the payload is still to be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload length.
    pub len: u32,
    /// Stored checksum.
    pub crc: u32,
}

/// The checksum of a record: over its little-endian length and its payload.
pub fn checksum(payload: &[u8]) -> u32 {
    let len = (payload.len() as u32).to_le_bytes();
    crc32c::crc32c_append(crc32c::crc32c(&len), payload)
}

/// Frames `payload` into `out` (cleared first, so one buffer serves every append).
///
/// The caller has checked `payload.len() <= MAX_PAYLOAD`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&SYNC);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Reads the header (current format) at the start of `bytes`, `room` being the bytes left in
/// the file from there (header included).
pub fn parse_header(bytes: &[u8], room: u64) -> Result<Header, Invalid> {
    parse_framed(Framing::V2, bytes, room)
}

/// Reads the header of a record framed as `framing` at the start of `bytes`, `room` being the
/// bytes left in the file from there (header included).
pub fn parse_framed(framing: Framing, bytes: &[u8], room: u64) -> Result<Header, Invalid> {
    let head_len = framing.header_len();
    let have = room.min(bytes.len() as u64);
    if have < head_len {
        return Err(Invalid::ShortHeader { have });
    }
    let bytes = match framing {
        Framing::V1 => bytes,
        Framing::V2 if bytes[..4] == SYNC => &bytes[4..],
        Framing::V2 => return Err(Invalid::NoSync),
    };
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if u64::from(len) > MAX_PAYLOAD {
        return Err(Invalid::AbsurdLength { len: len.into() });
    }
    if u64::from(len) > room - head_len {
        return Err(Invalid::BeyondFile {
            len: len.into(),
            room: room - head_len,
        });
    }
    Ok(Header { len, crc })
}

/// Checks `payload` against its header's checksum.
pub fn verify(header: Header, payload: &[u8]) -> Result<(), Invalid> {
    let computed = checksum(payload);
    if computed == header.crc {
        Ok(())
    } else {
        Err(Invalid::Checksum {
            stored: header.crc,
            computed,
        })
    }
}

/// Offset in `bytes` of the first intact current-format record, if any: the first sync
/// marker followed by a length that fits and a CRC that holds.
pub fn find_intact(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = bytes
        .get(from..)?
        .windows(SYNC.len())
        .position(|w| w == SYNC)
    {
        let at = from + i;
        let rest = &bytes[at..];
        if let Ok(h) = parse_header(rest, rest.len() as u64) {
            let start = HEADER_LEN as usize;
            if verify(h, &rest[start..start + h.len as usize]).is_ok() {
                return Some(at);
            }
        }
        from = at + 1;
    }
    None
}

/// Intact current-format records in `bytes`, found past any damage between them.
pub fn count_intact(bytes: &[u8]) -> u64 {
    let (mut from, mut n) = (0, 0);
    while let Some(at) = bytes.get(from..).and_then(find_intact) {
        let start = from + at;
        let rest = &bytes[start..];
        let len = parse_header(rest, rest.len() as u64).map_or(0, |h| h.len as usize);
        from = start + HEADER_LEN as usize + len;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
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
}
