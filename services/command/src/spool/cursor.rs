//! The forwarding cursor: every entry with a smaller seq is in Kafka. It is
//! kept in two fixed slots of one small file created once, written in place
//! in turn (write, fdatasync), each slot checked by a CRC. A torn write spoils
//! at most the slot being written, so loading finds the other (one step
//! older: those records are sent again, never lost). And an in-place write
//! needs no new space, so the cursor still moves when the disk is full,
//! which is what lets a full spool drain and free it.
//!
//! ```text
//! slot (at 0 and at 512) = magic "CUR1" | seq u64 LE | crc32(magic, seq) u32 LE
//! ```
//!
//! A cursor file from before slots (the seq as decimal text) is read once
//! and rewritten in slots.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::segments::sync_dir;

const FILE: &str = "cursor";
const MAGIC: &[u8; 4] = b"CUR1";
const SLOT_LEN: usize = 16;
const SLOT_AT: [u64; 2] = [0, 512];
const FILE_LEN: u64 = 1024;

/// The cursor file, open for storing.
#[derive(Debug)]
pub(crate) struct Cursor {
    file: File,
    /// The slot the next store writes (the other holds the current value).
    next: usize,
}

impl Cursor {
    /// Opens the cursor file in `dir`, creating it (at 0) when the spool is
    /// new; answers it and the stored cursor.
    pub(crate) fn open(dir: &Path) -> io::Result<(Self, u64)> {
        let path = dir.join(FILE);
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let (seq, newest) = if existed { read(&file)? } else { (0, None) };
        let cursor = Self {
            file,
            next: newest.map_or(0, |slot| 1 - slot),
        };
        if newest.is_none() {
            // New, or the text format: lay out both slots at `seq` first.
            cursor.file.set_len(FILE_LEN)?;
            cursor.write_slot(0, seq)?;
            cursor.write_slot(1, seq)?;
            cursor.file.sync_all()?;
            sync_dir(dir)?;
        }
        Ok((cursor, seq))
    }

    /// Stores `seq` durably, in place.
    pub(crate) fn store(&mut self, seq: u64) -> io::Result<()> {
        self.write_slot(self.next, seq)?;
        self.file.sync_data()?;
        self.next = 1 - self.next;
        Ok(())
    }

    fn write_slot(&self, slot: usize, seq: u64) -> io::Result<()> {
        self.file.write_all_at(&encode(seq), SLOT_AT[slot])
    }
}

/// The stored cursor, or 0 when the spool is new; reads without changing
/// anything (for `orchctl spool inspect`).
pub(crate) fn load(dir: &Path) -> io::Result<u64> {
    match File::open(dir.join(FILE)) {
        Ok(file) => read(&file).map(|(seq, _)| seq),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error),
    }
}

/// The cursor in `file` and the slot holding it (`None` for the text format).
fn read(file: &File) -> io::Result<(u64, Option<usize>)> {
    // Never more than the file's own size: a file grown by damage or by
    // hand must not be read whole.
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, FILE_LEN), &mut bytes)?;
    let slots: Vec<(usize, u64)> = SLOT_AT
        .iter()
        .enumerate()
        .filter_map(|(i, &at)| {
            let at = usize::try_from(at).ok()?;
            decode(bytes.get(at..at + SLOT_LEN)?).map(|seq| (i, seq))
        })
        .collect();
    if let Some(&(slot, seq)) = slots.iter().max_by_key(|(_, seq)| *seq) {
        return Ok((seq, Some(slot)));
    }
    let text = String::from_utf8_lossy(&bytes);
    if text.trim_matches(char::from(0)).trim().is_empty() {
        // Created, but a crash came before its slots were written.
        return Ok((0, None));
    }
    text.trim().parse().map(|seq| (seq, None)).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the spool's cursor file holds neither a valid slot nor a number",
        )
    })
}

fn encode(seq: u64) -> [u8; SLOT_LEN] {
    let mut slot = [0u8; SLOT_LEN];
    slot[..4].copy_from_slice(MAGIC);
    slot[4..12].copy_from_slice(&seq.to_le_bytes());
    let crc = crc32fast::hash(&slot[..12]);
    slot[12..].copy_from_slice(&crc.to_le_bytes());
    slot
}

fn decode(slot: &[u8]) -> Option<u64> {
    if slot.len() != SLOT_LEN || &slot[..4] != MAGIC {
        return None;
    }
    let crc = u32::from_le_bytes(slot[12..16].try_into().ok()?);
    if crc32fast::hash(&slot[..12]) != crc {
        return None;
    }
    Some(u64::from_le_bytes(slot[4..12].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn survives_reopening_a_torn_slot_and_the_old_text_format() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cursor, seq) = Cursor::open(dir.path()).unwrap();
        assert_eq!(seq, 0);
        cursor.store(5).unwrap();
        cursor.store(9).unwrap();
        drop(cursor);
        assert_eq!(load(dir.path()).unwrap(), 9);
        let (mut cursor, seq) = Cursor::open(dir.path()).unwrap();
        assert_eq!(seq, 9);
        cursor.store(12).unwrap();
        drop(cursor);
        // A torn write of the newest slot: the other, one step older, stands.
        let path = dir.path().join(FILE);
        let mut bytes = fs::read(&path).unwrap();
        let newest = if decode(&bytes[..SLOT_LEN]) == Some(12) {
            0
        } else {
            512
        };
        bytes[newest + 6] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(load(dir.path()).unwrap(), 9);

        let old = tempfile::tempdir().unwrap();
        fs::write(old.path().join(FILE), "42").unwrap();
        let (mut cursor, seq) = Cursor::open(old.path()).unwrap();
        assert_eq!(seq, 42);
        cursor.store(43).unwrap();
        assert_eq!(load(old.path()).unwrap(), 43);
    }

    #[test]
    fn moves_on_a_full_disk_since_nothing_grows() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cursor, _) = Cursor::open(dir.path()).unwrap();
        let len = fs::metadata(dir.path().join(FILE)).unwrap().len();
        for seq in 1..100 {
            cursor.store(seq).unwrap();
        }
        assert_eq!(fs::metadata(dir.path().join(FILE)).unwrap().len(), len);
    }
}
