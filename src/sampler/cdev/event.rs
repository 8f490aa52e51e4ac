//! `struct gpio_v2_line_event` records, as read from a line request, decoded.
//!
//! The layout (include/uapi/linux/gpio.h), native-endian, 48 bytes:
//! `u64 timestamp_ns; u32 id; u32 offset; u32 seqno; u32 line_seqno; u32 padding[6]`.

/// Bytes of one record.
pub const RECORD_BYTES: usize = crate::hw::gpiochip::EVENT_BYTES;

/// `id` of a rising edge (`GPIO_V2_LINE_EVENT_RISING_EDGE`).
const RISING: u32 = 1;
/// `id` of a falling edge (`GPIO_V2_LINE_EVENT_FALLING_EDGE`).
const FALLING: u32 = 2;

/// One edge event as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEvent {
    /// When the edge was seen, in ns of the request's event clock.
    pub timestamp_ns: u64,
    /// The (logical) level after the edge: 1 for rising, 0 for falling.
    pub level: u8,
    /// Line offset on the chip.
    pub offset: u32,
    /// Sequence number over all lines of the request, from 1.
    pub seqno: u32,
    /// Sequence number over this line's events, from 1.
    pub line_seqno: u32,
}

/// A record that is not an edge event this agent understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The read ended inside a record.
    #[error("{0} bytes left over: not a whole gpio_v2_line_event")]
    Partial(usize),
    /// The `id` field is neither rising nor falling.
    #[error("event id {id} on line {offset} is not a rising or falling edge")]
    UnknownId {
        /// The id read.
        id: u32,
        /// The line it was for.
        offset: u32,
    },
}

/// Decodes one 48-byte record.
pub fn decode(record: &[u8; RECORD_BYTES]) -> Result<LineEvent, EventError> {
    let u32_at = |at: usize| {
        u32::from_ne_bytes([record[at], record[at + 1], record[at + 2], record[at + 3]])
    };
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&record[0..8]);
    let id = u32_at(8);
    let offset = u32_at(12);
    let level = match id {
        RISING => 1,
        FALLING => 0,
        id => return Err(EventError::UnknownId { id, offset }),
    };
    Ok(LineEvent {
        timestamp_ns: u64::from_ne_bytes(ts),
        level,
        offset,
        seqno: u32_at(16),
        line_seqno: u32_at(20),
    })
}

/// Decodes every record in `bytes` (one read) into `out`, in order.
pub fn decode_all(bytes: &[u8], out: &mut Vec<LineEvent>) -> Result<(), EventError> {
    let mut records = bytes.chunks_exact(RECORD_BYTES);
    for r in records.by_ref() {
        let mut rec = [0u8; RECORD_BYTES];
        rec.copy_from_slice(r);
        out.push(decode(&rec)?);
    }
    match records.remainder().len() {
        0 => Ok(()),
        n => Err(EventError::Partial(n)),
    }
}

/// The record the kernel would write for `e` (tests craft event streams with it).
pub fn encode(e: &LineEvent) -> [u8; RECORD_BYTES] {
    let mut r = [0u8; RECORD_BYTES];
    r[0..8].copy_from_slice(&e.timestamp_ns.to_ne_bytes());
    let id = if e.level == 1 { RISING } else { FALLING };
    r[8..12].copy_from_slice(&id.to_ne_bytes());
    r[12..16].copy_from_slice(&e.offset.to_ne_bytes());
    r[16..20].copy_from_slice(&e.seqno.to_ne_bytes());
    r[20..24].copy_from_slice(&e.line_seqno.to_ne_bytes());
    r
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
