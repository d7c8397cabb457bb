//! Reading the DLQ archive back: its manifest, and the dead letters of the
//! objects a caller picks. Every size comes from outside (the bucket), so
//! each is bounded before it is held.

use std::io::{BufRead, BufReader, Read};

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::path::Path;
use orch_contracts::DeadLetterRecord;
use time::OffsetDateTime;

use crate::archive::{
    ArchiveLine, MANIFEST_MAX_BYTES, ManifestEntry, day_prefix, manifest_key, manifest_root,
    parse_data_key,
};
use crate::store::Objects;

/// A data object bigger than this is refused rather than read into memory.
const OBJECT_MAX_BYTES: u64 = 1 << 30;
/// Widest window `manifest_since` lists day by day.
const MAX_LISTED_DAYS: i64 = 92;
/// One archived record is one Kafka record; these never exceed a few MiB.
const LINE_MAX_BYTES: u64 = 16 << 20;

/// Why the archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The store failed a request.
    #[error("reading {key} from the object store failed")]
    Store {
        key: String,
        #[source]
        source: object_store::Error,
    },
    /// An object is not what the archive writes.
    #[error("{key} is not a valid archive object: {reason}")]
    Invalid { key: String, reason: String },
}

/// One dead letter read from the archive, with where it was in the topic.
#[derive(Debug, Clone)]
pub struct ArchivedLetter {
    /// Its partition in the DLQ topic.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// Its Kafka timestamp.
    pub timestamp: OffsetDateTime,
    /// The dead letter, or why its record is not one.
    pub letter: Result<DeadLetterRecord, String>,
}

/// Reads the archive under one store's prefix.
#[derive(Debug, Clone)]
pub struct ArchiveReader {
    objects: Objects,
}

impl ArchiveReader {
    /// A reader of the archive in `objects`.
    pub fn new(objects: Objects) -> Self {
        Self { objects }
    }

    /// Every manifest entry, sorted by partition and first offset.
    pub async fn manifest(&self) -> Result<Vec<ManifestEntry>, ReadError> {
        let root = self.objects.key(manifest_root());
        let s3 = self.objects.s3().clone();
        let keys: Vec<Path> = s3
            .list(Some(&root))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|source| ReadError::Store {
                key: root.to_string(),
                source,
            })?;
        let mut entries: Vec<ManifestEntry> = futures::stream::iter(keys)
            .map(|key| self.manifest_entry(key))
            .buffer_unordered(16)
            .try_collect()
            .await?;
        entries.sort_by_key(|e| (e.partition, e.first_offset));
        Ok(entries)
    }

    /// The manifest entries of the objects whose first record fell between
    /// the day before `since` and `until` (or today), found by listing only
    /// those days' data prefixes: a narrow window reads little of a large
    /// archive. An object whose entry is missing (written, not yet listed)
    /// is left out: its records are still in the topic.
    pub async fn manifest_since(
        &self,
        since: OffsetDateTime,
        until: Option<OffsetDateTime>,
    ) -> Result<Vec<ManifestEntry>, ReadError> {
        let last = until
            .unwrap_or_else(OffsetDateTime::now_utc)
            .to_offset(time::UtcOffset::UTC)
            .date();
        let mut day = since
            .to_offset(time::UtcOffset::UTC)
            .date()
            .previous_day()
            .unwrap_or(time::Date::MIN);
        // One listing per day: a window wider than a quarter (or a `since`
        // of year 1) reads the whole manifest instead, a bounded cost.
        if (last - day).whole_days() > MAX_LISTED_DAYS {
            return self.manifest().await;
        }
        let mut starts = Vec::new();
        while day <= last {
            let prefix = self.objects.key(&day_prefix(day));
            let mut listing = self.objects.s3().list(Some(&prefix));
            while let Some(meta) = listing.next().await {
                let meta = meta.map_err(|source| ReadError::Store {
                    key: prefix.to_string(),
                    source,
                })?;
                starts.extend(parse_data_key(meta.location.as_ref()));
            }
            let Some(next) = day.next_day() else { break };
            day = next;
        }
        let found: Vec<Option<ManifestEntry>> = futures::stream::iter(starts)
            .map(|(partition, first)| async move {
                let key = self.objects.key(&manifest_key(partition, first));
                match self.manifest_entry(key).await {
                    Ok(entry) => Ok(Some(entry)),
                    Err(ReadError::Store {
                        source: object_store::Error::NotFound { .. },
                        ..
                    }) => Ok(None),
                    Err(error) => Err(error),
                }
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        let mut entries: Vec<ManifestEntry> = found.into_iter().flatten().collect();
        entries.sort_by_key(|e| (e.partition, e.first_offset));
        Ok(entries)
    }

    async fn manifest_entry(&self, key: Path) -> Result<ManifestEntry, ReadError> {
        let bytes = self.get_bounded(&key, MANIFEST_MAX_BYTES as u64).await?;
        serde_json::from_slice(&bytes).map_err(|error| ReadError::Invalid {
            key: key.to_string(),
            reason: error.to_string(),
        })
    }

    /// The records of one data object, in offset order.
    pub async fn letters(&self, entry: &ManifestEntry) -> Result<Vec<ArchivedLetter>, ReadError> {
        let key = self.objects.key(&entry.object);
        let gzipped = self.get_bounded(&key, OBJECT_MAX_BYTES).await?;
        let invalid = |reason: String| ReadError::Invalid {
            key: key.to_string(),
            reason,
        };
        let mut lines = BufReader::new(flate2::read::MultiGzDecoder::new(&gzipped[..]));
        let mut letters = Vec::with_capacity(entry.records.min(1 << 20) as usize);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut lines)
                .take(LINE_MAX_BYTES)
                .read_until(b'\n', &mut line)
                .map_err(|error| invalid(format!("not gzip'd NDJSON: {error}")))?;
            if read == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                return Err(invalid(format!(
                    "a line is longer than {LINE_MAX_BYTES} bytes or unterminated"
                )));
            }
            let archived: ArchiveLine = serde_json::from_slice(&line)
                .map_err(|error| invalid(format!("a line is not an archive record: {error}")))?;
            let letter = match &archived.letter {
                Some(raw) => serde_json::from_str::<DeadLetterRecord>(raw.get())
                    .map_err(|error| format!("not a dead letter: {error}")),
                None => Err("the record's value is not JSON".into()),
            };
            letters.push(ArchivedLetter {
                partition: archived.partition,
                offset: archived.offset,
                timestamp: archived.timestamp,
                letter,
            });
        }
        if letters.len() as u64 != entry.records {
            return Err(invalid(format!(
                "it holds {} records, its manifest says {}",
                letters.len(),
                entry.records
            )));
        }
        Ok(letters)
    }

    async fn get_bounded(&self, key: &Path, limit: u64) -> Result<bytes::Bytes, ReadError> {
        let store_error = |source| ReadError::Store {
            key: key.to_string(),
            source,
        };
        let found = self.objects.s3().get(key).await.map_err(store_error)?;
        if found.meta.size > limit {
            return Err(ReadError::Invalid {
                key: key.to_string(),
                reason: format!(
                    "{} bytes, over the {limit} this reader takes",
                    found.meta.size
                ),
            });
        }
        found.bytes().await.map_err(store_error)
    }
}
