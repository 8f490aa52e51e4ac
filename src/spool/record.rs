//! Record framing: `[len: u32 LE][crc32c: u32 LE][payload]`, the CRC-32C (Castagnoli) taken over
//! the four length bytes and the payload.
//!
//! The length is inside the checksum so a flipped length bit is caught as surely as a flipped
//! payload bit; a run of zero bytes (what some file systems show after power loss) does not pass
//! either, since the CRC-32C of four zero bytes is not zero.

use std::fmt;

/// Bytes of framing before each payload.
pub const HEADER_LEN: u64 = 8;

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
                write!(f, "short header: {have} of {HEADER_LEN} bytes")
            }
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
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Reads the header at the start of `bytes`, `room` being the bytes left in the file from there
/// (header included).
pub fn parse_header(bytes: &[u8], room: u64) -> Result<Header, Invalid> {
    let (Some(len), Some(crc)) = (bytes.get(0..4), bytes.get(4..8)) else {
        return Err(Invalid::ShortHeader {
            have: room.min(bytes.len() as u64),
        });
    };
    if room < HEADER_LEN {
        return Err(Invalid::ShortHeader { have: room });
    }
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
    let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if u64::from(len) > MAX_PAYLOAD {
        return Err(Invalid::AbsurdLength { len: len.into() });
    }
    if u64::from(len) > room - HEADER_LEN {
        return Err(Invalid::BeyondFile {
            len: len.into(),
            room: room - HEADER_LEN,
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
        for byte in (0..4).chain(HEADER_LEN as usize..good.len()) {
            let mut bad = good.clone();
            bad[byte] ^= 0x01;
            match decode(&bad) {
                Err(Invalid::Checksum { .. }) | Err(Invalid::BeyondFile { .. }) => {}
                other => panic!("byte {byte}: {other:?}"),
            }
        }
        let mut bad = good.clone();
        bad[4] ^= 0x80;
        assert!(matches!(decode(&bad), Err(Invalid::Checksum { .. })));
    }

    #[test]
    fn zeros_are_not_a_record() {
        assert!(matches!(
            decode(&[0u8; 8]),
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
        let mut bytes = vec![0xFF; 4];
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
