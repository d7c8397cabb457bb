//! An open archive object: one partition's consecutive records, gzip'd as
//! they arrive, so memory holds the compressed bytes only.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use orch_objects::{ArchiveLine, ManifestEntry};
use rdkafka::Message;
use rdkafka::message::Headers;
use serde_json::value::RawValue;
use time::OffsetDateTime;

/// A record's fields, read out of the Kafka message.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: OffsetDateTime,
    line: Vec<u8>,
}

impl Record {
    /// Reads a DLQ message. Nothing in it can fail this: a value that is not
    /// JSON is kept in base64, a key or header that is not UTF-8 is left out.
    pub(crate) fn read(topic: &str, message: &impl Message) -> Self {
        let timestamp = message
            .timestamp()
            .to_millis()
            .and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            })
            .unwrap_or_else(OffsetDateTime::now_utc);
        let payload = message.payload().unwrap_or_default();
        let letter = std::str::from_utf8(payload)
            .ok()
            .and_then(|text| RawValue::from_string(text.to_owned()).ok());
        let value_base64 = letter.is_none().then(|| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(payload)
        });
        let mut headers = BTreeMap::new();
        if let Some(all) = message.headers() {
            for header in all.iter() {
                if let Some(value) = header.value.and_then(|v| std::str::from_utf8(v).ok()) {
                    headers.insert(header.key.to_owned(), value.to_owned());
                }
            }
        }
        let line = ArchiveLine {
            topic: topic.to_owned(),
            partition: message.partition(),
            offset: message.offset(),
            timestamp,
            key: message
                .key()
                .and_then(|k| std::str::from_utf8(k).ok())
                .map(str::to_owned),
            headers,
            letter,
            value_base64,
        };
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        Self {
            partition: message.partition(),
            offset: message.offset(),
            timestamp,
            line: bytes,
        }
    }
}

/// One partition's open object.
pub(crate) struct Batch {
    topic: String,
    partition: i32,
    first_offset: i64,
    last_offset: i64,
    first_timestamp: OffsetDateTime,
    earliest: OffsetDateTime,
    latest: OffsetDateTime,
    records: u64,
    uncompressed: u64,
    gzip: GzEncoder<Vec<u8>>,
    opened: Instant,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("partition", &self.partition)
            .field("first_offset", &self.first_offset)
            .field("last_offset", &self.last_offset)
            .field("records", &self.records)
            .finish()
    }
}

/// A closed object, ready to write: its bytes and its manifest entry.
#[derive(Debug)]
pub(crate) struct Sealed {
    pub(crate) data: Bytes,
    pub(crate) entry: ManifestEntry,
}

impl Batch {
    /// An object that starts with `record`.
    pub(crate) fn open(topic: &str, record: Record) -> Self {
        let mut batch = Self {
            topic: topic.to_owned(),
            partition: record.partition,
            first_offset: record.offset,
            last_offset: record.offset,
            first_timestamp: record.timestamp,
            earliest: record.timestamp,
            latest: record.timestamp,
            records: 0,
            uncompressed: 0,
            // The fastest level: the archiver is CPU-bound, and JSON dead
            // letters compress well at any level (see dev/bench objects).
            gzip: GzEncoder::new(Vec::new(), Compression::fast()),
            opened: Instant::now(),
        };
        batch.push(record);
        batch
    }

    /// Adds the partition's next record.
    pub(crate) fn push(&mut self, record: Record) {
        // Writing to a Vec cannot fail.
        let _ = self.gzip.write_all(&record.line);
        self.last_offset = record.offset;
        self.earliest = self.earliest.min(record.timestamp);
        self.latest = self.latest.max(record.timestamp);
        self.records += 1;
        self.uncompressed += record.line.len() as u64;
    }

    /// Bytes before compression so far (what the size roll counts).
    pub(crate) fn uncompressed(&self) -> u64 {
        self.uncompressed
    }

    /// Bytes held in memory.
    pub(crate) fn held(&self) -> u64 {
        self.gzip.get_ref().len() as u64
    }

    /// When the object was opened.
    pub(crate) fn opened(&self) -> Instant {
        self.opened
    }

    /// The oldest record's timestamp: how far the archive is behind.
    pub(crate) fn earliest(&self) -> OffsetDateTime {
        self.earliest
    }

    /// Closes the object.
    pub(crate) fn seal(self) -> Sealed {
        let data = self.gzip.finish().unwrap_or_default();
        let entry = ManifestEntry {
            schema: 1,
            object: orch_objects::data_key(self.partition, self.first_offset, self.first_timestamp),
            topic: self.topic,
            partition: self.partition,
            first_offset: self.first_offset,
            last_offset: self.last_offset,
            records: self.records,
            bytes: data.len() as u64,
            uncompressed_bytes: self.uncompressed,
            first_timestamp: self.earliest,
            last_timestamp: self.latest,
            written_at: OffsetDateTime::now_utc(),
        };
        Sealed {
            data: Bytes::from(data),
            entry,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use rdkafka::message::{OwnedHeaders, OwnedMessage, Timestamp};

    use super::*;

    fn message(offset: i64, payload: &[u8]) -> OwnedMessage {
        OwnedMessage::new(
            Some(payload.to_vec()),
            Some(b"e-1".to_vec()),
            "t.events.dlq".into(),
            Timestamp::CreateTime(1_764_748_800_000),
            2,
            offset,
            Some(OwnedHeaders::new().insert(rdkafka::message::Header {
                key: "traceparent",
                value: Some("00-abc-def-01"),
            })),
        )
    }

    #[test]
    fn an_object_holds_every_record_as_a_line() {
        let topic = "t.events.dlq";
        let mut batch = Batch::open(topic, Record::read(topic, &message(7, br#"{"id":"e-1"}"#)));
        batch.push(Record::read(topic, &message(8, b"\xff not json")));
        let sealed = batch.seal();
        assert_eq!(
            (sealed.entry.first_offset, sealed.entry.last_offset),
            (7, 8)
        );
        assert_eq!(sealed.entry.records, 2);
        assert_eq!(
            sealed.entry.object,
            "dlq/dt=2025-12-03/hour=08/p00002-00000000000000000007.ndjson.gz"
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(&sealed.data[..])
            .read_to_string(&mut text)
            .unwrap();
        let lines: Vec<ArchiveLine> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0].letter.as_ref().unwrap().get(), r#"{"id":"e-1"}"#);
        assert_eq!(lines[0].headers["traceparent"], "00-abc-def-01");
        assert!(lines[1].letter.is_none());
        assert_eq!(lines[1].value_base64.as_deref(), Some("/yBub3QganNvbg=="));
    }
}
