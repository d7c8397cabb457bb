//! Reading a stopped replica's spool without changing it, for `orchctl spool
//! inspect | export`: what each segment holds, which entries are not yet in
//! Kafka, and what is in the quarantine. Refuses a spool a running process
//! holds, whose files are still changing.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;
use serde_json::value::RawValue;

use super::quarantine::{self, QuarantineItem};
use super::{LOCK_FILE, cursor, segments};
use crate::spooled::SpooledRecord;

/// Why a spool could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// A process holds the spool's lock: stop it first.
    #[error(
        "the spool at {0} is in use by a running command service (its LOCK is held); stop that replica first"
    )]
    InUse(PathBuf),
    /// There is no spool there.
    #[error("{0} is not a spool directory (no segments, cursor or quarantine in it)")]
    NotASpool(PathBuf),
    /// Reading failed.
    #[error("could not read the spool at {dir}")]
    Io {
        /// The spool directory.
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// One segment file.
#[derive(Debug, Serialize)]
pub struct SegmentSummary {
    /// Its file name.
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Valid entries in it.
    pub entries: usize,
    /// Entries in it not yet in Kafka (seq at or past the cursor).
    pub pending: usize,
    /// Damaged stretches between valid entries.
    pub damaged_stretches: usize,
    /// Bytes after the last valid entry (a torn write, cut off at the next start).
    pub torn_tail_bytes: u64,
}

/// What a spool directory holds.
#[derive(Debug, Serialize)]
pub struct Inventory {
    /// Every entry with a smaller seq is in Kafka.
    pub cursor: u64,
    /// The segments, oldest first.
    pub segments: Vec<SegmentSummary>,
    /// Entries not yet in Kafka, across segments.
    pub pending: usize,
    /// The oldest pending entry's append time (ms since the epoch).
    pub oldest_pending_ms: Option<u64>,
    /// The quarantine's index.
    pub quarantined: Vec<QuarantineItem>,
}

/// One line of an export.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ExportLine<'a> {
    /// An entry not yet in Kafka, as the forwarder would send it.
    Pending {
        seq: u64,
        appended_ms: u64,
        #[serde(flatten)]
        content: Content,
    },
    /// A quarantined item, with its bytes.
    Quarantined {
        #[serde(flatten)]
        item: &'a QuarantineItem,
        #[serde(flatten)]
        content: Content,
    },
}

/// Bytes as a raw record (with its key and trace headers) when they decode
/// as one, else as base64.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Content {
    Record {
        key: String,
        traceparent: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        correlation_id: Option<String>,
        record: Box<RawValue>,
    },
    Bytes {
        bytes_base64: String,
    },
}

impl Content {
    fn of(bytes: &[u8]) -> Self {
        match SpooledRecord::decode(bytes) {
            Ok(spooled) => Content::Record {
                key: spooled.key,
                traceparent: spooled.traceparent,
                correlation_id: spooled.correlation_id,
                record: spooled.value,
            },
            Err(_) => Content::Bytes {
                bytes_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
        }
    }
}

/// Counts written by `export`.
#[derive(Debug, Default, Serialize)]
pub struct Exported {
    /// Pending entries written.
    pub pending: usize,
    /// Quarantined items written.
    pub quarantined: usize,
}

/// Lists what the spool at `dir` holds.
pub fn inspect(dir: &Path) -> Result<Inventory, InspectError> {
    let mut inventory = None;
    read(dir, |summary| inventory = Some(summary), |_| Ok(()))?;
    inventory.ok_or_else(|| InspectError::NotASpool(dir.to_owned()))
}

/// Writes every pending entry, then every quarantined item, to `out` as
/// NDJSON (see docs/runbooks/spool.md for the line format).
pub fn export(dir: &Path, out: &mut impl Write) -> Result<Exported, InspectError> {
    let io_error = |source| InspectError::Io {
        dir: dir.to_owned(),
        source,
    };
    let mut exported = Exported::default();
    let mut inventory = None;
    read(
        dir,
        |summary| inventory = Some(summary),
        |entry| {
            let line = ExportLine::Pending {
                seq: entry.seq,
                appended_ms: entry.appended_ms,
                content: Content::of(&entry.payload),
            };
            exported.pending += 1;
            write_line(out, &line)
        },
    )?;
    let inventory = inventory.ok_or_else(|| InspectError::NotASpool(dir.to_owned()))?;
    let quarantine_dir = dir.join(quarantine::DIR);
    for item in &inventory.quarantined {
        // The index names a file under the quarantine; never follow a name
        // out of it.
        let name = Path::new(&item.file);
        if name.components().count() != 1 {
            continue;
        }
        let bytes = fs::read(quarantine_dir.join(name)).map_err(io_error)?;
        let line = ExportLine::Quarantined {
            item,
            content: Content::of(&bytes),
        };
        write_line(out, &line).map_err(io_error)?;
        exported.quarantined += 1;
    }
    out.flush().map_err(io_error)?;
    Ok(exported)
}

fn write_line(out: &mut impl Write, line: &ExportLine<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Reads the spool under its lock (released at the end), handing each
/// pending entry to `on_pending` and the summary to `on_summary`.
fn read(
    dir: &Path,
    on_summary: impl FnOnce(Inventory),
    mut on_pending: impl FnMut(&super::entry::Entry) -> io::Result<()>,
) -> Result<(), InspectError> {
    let io_error = |source| InspectError::Io {
        dir: dir.to_owned(),
        source,
    };
    let _lock = hold_lock(dir)?;
    let cursor = cursor::load(dir).map_err(io_error)?;
    let files = segments::list(dir).map_err(io_error)?;
    let quarantined = quarantine::read_index(&dir.join(quarantine::DIR)).map_err(io_error)?;
    let has_cursor = dir.join("cursor").exists();
    if files.is_empty() && quarantined.is_empty() && !has_cursor {
        return Err(InspectError::NotASpool(dir.to_owned()));
    }
    let mut summaries = Vec::new();
    let mut pending = 0;
    let mut oldest_pending_ms: Option<u64> = None;
    let mut failed = None;
    for segment in files {
        let bytes = fs::read(&segment.path).map_err(io_error)?;
        let (mut entries, mut in_segment) = (0, 0);
        let scan = segments::walk(&bytes, |entry| {
            entries += 1;
            if entry.seq >= cursor {
                in_segment += 1;
                oldest_pending_ms = Some(
                    oldest_pending_ms.map_or(entry.appended_ms, |ms| ms.min(entry.appended_ms)),
                );
                if failed.is_none()
                    && let Err(error) = on_pending(&entry)
                {
                    failed = Some(error);
                }
            }
        });
        if let Some(error) = failed.take() {
            return Err(io_error(error));
        }
        pending += in_segment;
        summaries.push(SegmentSummary {
            file: segment
                .path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            bytes: bytes.len() as u64,
            entries,
            pending: in_segment,
            damaged_stretches: scan.corrupt_stretches,
            torn_tail_bytes: bytes.len() as u64 - scan.valid_len,
        });
    }
    on_summary(Inventory {
        cursor,
        segments: summaries,
        pending,
        oldest_pending_ms,
        quarantined,
    });
    Ok(())
}

/// Takes the spool's lock, without creating anything, so a running service
/// cannot be read mid-write; `None` when the spool has no LOCK file (one
/// written before locks, or never opened).
fn hold_lock(dir: &Path) -> Result<Option<fs::File>, InspectError> {
    let file = match fs::File::open(dir.join(LOCK_FILE)) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            if dir.is_dir() {
                return Ok(None);
            }
            return Err(InspectError::Io {
                dir: dir.to_owned(),
                source: error,
            });
        }
        Err(source) => {
            return Err(InspectError::Io {
                dir: dir.to_owned(),
                source,
            });
        }
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(fs::TryLockError::WouldBlock) => Err(InspectError::InUse(dir.to_owned())),
        Err(fs::TryLockError::Error(source)) => Err(InspectError::Io {
            dir: dir.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Spool, entry};
    use super::*;

    fn spooled(id: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "key": id,
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "value": { "id": id },
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn lists_and_exports_a_stopped_spool_damage_and_all_and_refuses_a_running_one() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        for payload in [
            spooled("e0"),
            spooled("e1"),
            spooled("e2"),
            b"junk".to_vec(),
        ] {
            spool.append(payload, false).await.unwrap();
        }
        spool.advance(1, 0).unwrap();
        assert!(matches!(inspect(dir.path()), Err(InspectError::InUse(_))));
        drop(spool);

        // The third entry (seq 2) loses a bit.
        let segment = &segments::list(dir.path()).unwrap()[0];
        let mut bytes = fs::read(&segment.path).unwrap();
        let third = 2 * entry::encoded_len(spooled("e0").len());
        bytes[third + entry::HEADER_LEN + 5] ^= 0x01;
        fs::write(&segment.path, &bytes).unwrap();

        let inventory = inspect(dir.path()).unwrap();
        assert_eq!(inventory.cursor, 1);
        assert_eq!(inventory.pending, 2, "seq 1 and seq 3; seq 2 is damage");
        let [summary] = inventory.segments.as_slice() else {
            panic!("one segment: {inventory:?}")
        };
        assert_eq!((summary.entries, summary.damaged_stretches), (3, 1));

        let mut out = Vec::new();
        let exported = export(dir.path(), &mut out).unwrap();
        assert_eq!((exported.pending, exported.quarantined), (2, 0));
        let lines: Vec<serde_json::Value> = out
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).unwrap())
            .collect();
        assert_eq!(lines[0]["kind"], "pending");
        assert_eq!(lines[0]["seq"], 1);
        assert_eq!(lines[0]["key"], "e1");
        assert_eq!(lines[0]["record"]["id"], "e1");
        assert_eq!(lines[1]["seq"], 3);
        assert_eq!(lines[1]["bytes_base64"], "anVuaw==");
        // Reading changed nothing.
        assert_eq!(fs::read(&segment.path).unwrap(), bytes);
        assert!(!dir.path().join(quarantine::DIR).exists());
    }

    #[test]
    fn a_directory_that_is_no_spool_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            inspect(dir.path()),
            Err(InspectError::NotASpool(_))
        ));
        assert!(matches!(
            inspect(&dir.path().join("missing")),
            Err(InspectError::Io { .. })
        ));
    }
}
