//! The on-disk entry format. Every entry is self-checking, so a torn write at
//! the end of a segment (a crash mid-append) is recognised and cut off:
//!
//! ```text
//! magic u8 = 0xE5 | len u32 LE | crc32 u32 LE | seq u64 LE | appended_ms u64 LE | payload [len]
//! ```
//!
//! The CRC covers seq, appended_ms and payload.

/// Bytes before the payload.
pub(crate) const HEADER_LEN: usize = 1 + 4 + 4 + 8 + 8;
/// The first byte of every entry.
pub(crate) const MAGIC: u8 = 0xE5;

/// One decoded entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    pub(crate) appended_ms: u64,
    pub(crate) payload: Vec<u8>,
}

/// What is at a position in a segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A whole, valid entry, and the bytes it took.
    Entry(Entry, usize),
    /// The bytes end before the entry does: the end of the data written so far.
    Incomplete,
    /// The bytes are not a valid entry.
    Corrupt,
}

/// Appends the encoding of one entry to `out`.
pub(crate) fn encode(seq: u64, appended_ms: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&appended_ms.to_le_bytes());
    crc.update(payload);
    out.push(MAGIC);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&appended_ms.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The encoded size of an entry with a payload of `payload_len` bytes.
pub(crate) fn encoded_len(payload_len: usize) -> usize {
    HEADER_LEN + payload_len
}

/// Decodes the entry at the start of `bytes`.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    if bytes.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    if bytes[0] != MAGIC {
        return Decoded::Corrupt;
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let long = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let len = word(1) as usize;
    let stored_crc = word(5);
    let seq = long(9);
    let appended_ms = long(17);
    let total = HEADER_LEN + len;
    if bytes.len() < total {
        return Decoded::Incomplete;
    }
    let payload = &bytes[HEADER_LEN..total];
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(&appended_ms.to_le_bytes());
    crc.update(payload);
    if crc.finalize() != stored_crc {
        return Decoded::Corrupt;
    }
    Decoded::Entry(
        Entry {
            seq,
            appended_ms,
            payload: payload.to_vec(),
        },
        total,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_its_length() {
        let mut buf = Vec::new();
        encode(7, 1_000, b"hello", &mut buf);
        encode(8, 1_001, b"", &mut buf);
        assert_eq!(buf.len(), encoded_len(5) + encoded_len(0));
        let Decoded::Entry(first, used) = decode(&buf) else {
            panic!("first entry decodes");
        };
        assert_eq!(
            (first.seq, first.appended_ms, first.payload.as_slice()),
            (7, 1_000, &b"hello"[..])
        );
        let Decoded::Entry(second, _) = decode(&buf[used..]) else {
            panic!("second entry decodes");
        };
        assert_eq!(second.seq, 8);
    }

    #[test]
    fn a_torn_tail_is_incomplete_and_a_flipped_bit_is_corrupt() {
        let mut buf = Vec::new();
        encode(1, 2, b"payload", &mut buf);
        for cut in 0..buf.len() {
            assert_eq!(decode(&buf[..cut]), Decoded::Incomplete, "cut at {cut}");
        }
        for at in [0, 5, 10, 20, buf.len() - 1] {
            let mut flipped = buf.clone();
            flipped[at] ^= 0x01;
            assert_eq!(decode(&flipped), Decoded::Corrupt, "bit flipped at {at}");
        }
    }
}
