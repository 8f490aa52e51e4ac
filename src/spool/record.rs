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
#[path = "record_tests.rs"]
mod tests;
