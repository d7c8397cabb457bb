//! The DLQ archive's layout. Data objects are date-partitioned for Athena:
//!
//! ```text
//! <prefix>/dlq/dt=YYYY-MM-DD/hour=HH/p<partition:5>-<first offset:20>.ndjson.gz
//! <prefix>/dlq/_manifest/p<partition:5>/<first offset:20>.json
//! ```
//!
//! An object's name is fixed by its partition and first offset, and its date
//! by its first record's timestamp, so an archiver that crashes before
//! committing re-writes the same object rather than a second copy. Each data
//! object has one manifest entry saying which offsets it holds; Athena skips
//! `_manifest` (a leading underscore).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::macros::format_description;

/// Manifest entries are small; a bigger one is not ours.
pub const MANIFEST_MAX_BYTES: usize = 64 * 1024;

/// The archive's root under the prefix.
pub fn dlq_root() -> &'static str {
    "dlq"
}

/// Where the manifest entries live.
pub fn manifest_root() -> &'static str {
    "dlq/_manifest"
}

/// The data object for records of `partition` from `first_offset`, whose
/// first record was written at `first_timestamp`.
pub fn data_key(partition: i32, first_offset: i64, first_timestamp: OffsetDateTime) -> String {
    let utc = first_timestamp.to_offset(time::UtcOffset::UTC);
    let day = utc
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_else(|_| "0000-00-00".into());
    format!(
        "{}/dt={day}/hour={:02}/p{partition:05}-{first_offset:020}.ndjson.gz",
        dlq_root(),
        utc.hour()
    )
}

/// The prefix of the data objects whose first record fell on `day` (UTC).
pub fn day_prefix(day: time::Date) -> String {
    let text = day
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_else(|_| "0000-00-00".into());
    format!("{}/dt={text}/", dlq_root())
}

/// (partition, first offset) of a data object, from its key's last segment;
/// None for a key the archiver does not write.
pub fn parse_data_key(key: &str) -> Option<(i32, i64)> {
    let name = key.rsplit('/').next()?.strip_suffix(".ndjson.gz")?;
    let (partition, first) = name.strip_prefix('p')?.split_once('-')?;
    Some((partition.parse().ok()?, first.parse().ok()?))
}

/// The manifest entry of the data object that starts at `first_offset`.
pub fn manifest_key(partition: i32, first_offset: i64) -> String {
    format!(
        "{}/p{partition:05}/{first_offset:020}.json",
        manifest_root()
    )
}

/// One line of a data object: a DLQ record with where it was in the topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveLine {
    /// The DLQ topic's name.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset in the partition.
    pub offset: i64,
    /// The record's Kafka timestamp (when it was dead-lettered).
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The record's key (the event id), when it is UTF-8.
    pub key: Option<String>,
    /// The record's headers whose values are UTF-8 (trace context, schema).
    pub headers: BTreeMap<String, String>,
    /// The record's value as it was, when it is JSON (a dead letter).
    pub letter: Option<Box<RawValue>>,
    /// The value in base64, when it is not JSON (kept, never dropped).
    pub value_base64: Option<String>,
}

/// What one data object holds: written after the object, before the offsets
/// are committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Entry schema version.
    pub schema: u32,
    /// The data object's key, under the prefix.
    pub object: String,
    /// The DLQ topic's name.
    pub topic: String,
    /// The partition the records came from.
    pub partition: i32,
    /// The first offset in the object.
    pub first_offset: i64,
    /// The last offset in the object (inclusive).
    pub last_offset: i64,
    /// Records in the object (fewer than the offset span when the topic has
    /// gaps, such as transaction markers).
    pub records: u64,
    /// The object's size, gzip'd.
    pub bytes: u64,
    /// The records' size before compression.
    pub uncompressed_bytes: u64,
    /// The earliest record timestamp in the object.
    #[serde(with = "time::serde::rfc3339")]
    pub first_timestamp: OffsetDateTime,
    /// The latest record timestamp in the object.
    #[serde(with = "time::serde::rfc3339")]
    pub last_timestamp: OffsetDateTime,
    /// When the object was written.
    #[serde(with = "time::serde::rfc3339")]
    pub written_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_sort_by_offset_and_carry_the_date() {
        let at = datetime!(2026-12-03 07:59:59.9 +01:00);
        assert_eq!(
            data_key(3, 1_234, at),
            "dlq/dt=2026-12-03/hour=06/p00003-00000000000000001234.ndjson.gz"
        );
        assert_eq!(
            manifest_key(3, 1_234),
            "dlq/_manifest/p00003/00000000000000001234.json"
        );
        assert!(manifest_key(3, 999) < manifest_key(3, 1_000));
        assert_eq!(
            parse_data_key(&format!("env/{}", data_key(3, 1_234, at))),
            Some((3, 1_234))
        );
        assert_eq!(parse_data_key("dlq/dt=2026-12-03/hour=06/notes.txt"), None);
        assert_eq!(day_prefix(at.date()), "dlq/dt=2026-12-03/");
    }
}
