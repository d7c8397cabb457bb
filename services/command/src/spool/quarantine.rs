//! Where the spool puts what it cannot forward: a damaged stretch of a
//! segment, a record that does not decode, a record Kafka refuses for good.
//! Nothing is ever deleted for being unreadable: it is kept here, counted,
//! and listed in `index.ndjson`, for `orchctl spool inspect | export` and a
//! person to look at.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::segments::sync_dir;
use super::writer::now_ms;

/// The quarantine's directory under the spool's.
pub(crate) const DIR: &str = "quarantine";
const INDEX: &str = "index.ndjson";

/// Why something was quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineKind {
    /// Bytes of a segment that are not valid entries (the disk lost data the
    /// spool had fsynced), between two valid entries or at a segment's end.
    Corrupt,
    /// A torn write at the end of the last segment: a crash mid-append. It was
    /// never acknowledged, so it is not an event lost; kept all the same.
    Torn,
    /// A valid entry whose record cannot be decoded.
    Undecodable,
    /// A record Kafka refuses for good (too large, invalid).
    Refused,
}

impl QuarantineKind {
    /// Every kind.
    pub const ALL: [QuarantineKind; 4] = [
        QuarantineKind::Corrupt,
        QuarantineKind::Torn,
        QuarantineKind::Undecodable,
        QuarantineKind::Refused,
    ];

    /// A bounded name, fit for a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineKind::Corrupt => "corrupt",
            QuarantineKind::Torn => "torn",
            QuarantineKind::Undecodable => "undecodable",
            QuarantineKind::Refused => "refused",
        }
    }
}

/// One quarantined item, as `index.ndjson` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineItem {
    /// The file holding the bytes, under the quarantine directory.
    pub file: String,
    /// Why.
    pub kind: QuarantineKind,
    /// Detail: the segment and offset, or Kafka's reason.
    pub reason: String,
    /// The entry's seq, when it was a whole entry.
    pub seq: Option<u64>,
    /// How many bytes.
    pub bytes: u64,
    /// When it was quarantined (ms since the epoch).
    pub at_ms: u64,
}

/// The quarantine of one spool directory.
#[derive(Debug, Clone)]
pub(crate) struct Quarantine {
    dir: PathBuf,
}

impl Quarantine {
    pub(crate) fn new(spool_dir: &Path) -> Self {
        Self {
            dir: spool_dir.join(DIR),
        }
    }

    /// Keeps `bytes` with its reason, durably, before the caller moves past
    /// them. `name` makes the file name unique and repeatable (a seq, or a
    /// segment and offset), so doing it twice after a crash is harmless.
    pub(crate) fn keep(
        &self,
        name: &str,
        kind: QuarantineKind,
        reason: &str,
        seq: Option<u64>,
        bytes: &[u8],
    ) -> io::Result<QuarantineItem> {
        fs::create_dir_all(&self.dir)?;
        let file = format!("{}-{name}.bin", kind.as_str());
        let path = self.dir.join(&file);
        let item = QuarantineItem {
            file,
            kind,
            reason: reason.to_owned(),
            seq,
            bytes: bytes.len() as u64,
            at_ms: now_ms(),
        };
        if path.exists() {
            // Kept before a crash: the index has it too, or gets it now.
            if self.items()?.iter().any(|kept| kept.file == item.file) {
                return Ok(item);
            }
        } else {
            let mut out = File::create(&path)?;
            out.write_all(bytes)?;
            out.sync_all()?;
        }
        let mut index = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(INDEX))?;
        let mut line = serde_json::to_vec(&item).map_err(io::Error::other)?;
        line.push(b'\n');
        index.write_all(&line)?;
        index.sync_all()?;
        sync_dir(&self.dir)?;
        Ok(item)
    }

    /// Everything quarantined so far, oldest first.
    pub(crate) fn items(&self) -> io::Result<Vec<QuarantineItem>> {
        read_index(&self.dir)
    }
}

/// The index of the quarantine under `spool_dir`; an unreadable line is
/// skipped (the bytes it names are still in their file).
pub(crate) fn read_index(quarantine_dir: &Path) -> io::Result<Vec<QuarantineItem>> {
    let file = match File::open(quarantine_dir.join(INDEX)) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut items = Vec::new();
    for line in BufReader::new(file).lines() {
        if let Ok(item) = serde_json::from_str::<QuarantineItem>(&line?) {
            items.push(item);
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_bytes_are_listed_once_even_when_kept_twice() {
        let dir = tempfile::tempdir().unwrap();
        let quarantine = Quarantine::new(dir.path());
        quarantine
            .keep("seg1-40", QuarantineKind::Corrupt, "bad crc", None, b"junk")
            .unwrap();
        quarantine
            .keep("seg1-40", QuarantineKind::Corrupt, "bad crc", None, b"junk")
            .unwrap();
        quarantine
            .keep("7", QuarantineKind::Refused, "too large", Some(7), b"{}")
            .unwrap();
        let items = quarantine.items().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].kind, QuarantineKind::Corrupt);
        assert_eq!(items[1].seq, Some(7));
        assert_eq!(
            fs::read(dir.path().join(DIR).join(&items[0].file)).unwrap(),
            b"junk"
        );
    }
}
