//! Where dead letters are read from: the DLQ topic, from its oldest record to
//! the end it had when the read began, and the archive in object storage for
//! what the topic no longer holds (its retention is 30 days; the archive's is
//! the bucket's). A letter in both is counted once, from the topic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::Context;
use orch_contracts::{DeadLetterRecord, ErrorKind};
use orch_kafka::BaseConsumer;
use orch_objects::{ArchiveReader, ObjectStoreConfig, Objects};
use rdkafka::consumer::Consumer;
use rdkafka::{Message, Offset, TopicPartitionList};
use time::OffsetDateTime;

use crate::offsets::{self, KAFKA_TIMEOUT};
use crate::parse_time;

/// Where the archive is: the archiver's object store settings. Without a
/// bucket, only the topic is read.
pub type ArchiveArgs = ObjectStoreConfig;

fn archive_reader(archive: &ArchiveArgs) -> anyhow::Result<Option<ArchiveReader>> {
    if archive.bucket.is_none() {
        return Ok(None);
    }
    Ok(Some(ArchiveReader::new(Objects::connect(archive)?)))
}

/// Which dead letters to take.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LetterFilter {
    /// Only these event ids (repeat the flag for more).
    #[arg(long = "id")]
    pub ids: Vec<String>,
    /// Only letters dead-lettered at or after this RFC 3339 time.
    #[arg(long, value_parser = parse_time)]
    pub since: Option<OffsetDateTime>,
    /// Only letters dead-lettered before this RFC 3339 time.
    #[arg(long, value_parser = parse_time)]
    pub until: Option<OffsetDateTime>,
    /// Only letters with this reason (error kind), e.g. `client_error`.
    #[arg(long, value_parser = parse_reason)]
    pub reason: Option<ErrorKind>,
}

fn parse_reason(value: &str) -> Result<ErrorKind, String> {
    serde_json::from_value(serde_json::Value::String(value.into())).map_err(|_| {
        format!(
            "{value:?} is not an error kind; one of: network, timeout, rate_limited, \
             server_error, client_error, graphql_error, retries_exhausted, internal_error"
        )
    })
}

impl LetterFilter {
    /// Whether `letter` is wanted.
    pub fn wants(&self, letter: &DeadLetterRecord) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|id| id.as_str() == letter.id.as_str()))
            && self.reason.is_none_or(|reason| letter.reason == reason)
            && self
                .since
                .is_none_or(|since| letter.dead_lettered_at >= since)
            && self
                .until
                .is_none_or(|until| letter.dead_lettered_at < until)
    }

    /// Whether a span of record times can hold a wanted letter (a record's
    /// time is when it was dead-lettered, give or take the clocks).
    fn may_hold(&self, first: OffsetDateTime, last: OffsetDateTime) -> bool {
        let slack = time::Duration::minutes(5);
        self.since.is_none_or(|since| last + slack >= since)
            && self.until.is_none_or(|until| first - slack < until)
    }
}

/// Where a letter was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The DLQ topic.
    Topic,
    /// The archive; the topic no longer holds it.
    Archive,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Topic => "topic",
            Source::Archive => "archive",
        })
    }
}

/// One dead letter and where it was found.
#[derive(Debug, Clone)]
pub struct Found {
    /// Topic or archive.
    pub source: Source,
    /// Its partition in the DLQ topic.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// The letter.
    pub letter: DeadLetterRecord,
}

/// What a read found.
#[derive(Debug, Clone, Default)]
pub struct Letters {
    /// Wanted letters, oldest first.
    pub found: Vec<Found>,
    /// Records read that are not dead letters (unreadable raw copies).
    pub unreadable: usize,
    /// Whether the archive was read.
    pub archive_read: bool,
}

impl Letters {
    /// How many were read from each source.
    pub fn count(&self, source: Source) -> usize {
        self.found.iter().filter(|f| f.source == source).count()
    }
}

/// Reads the wanted letters from the topic and, when configured, the archive.
pub async fn read(
    kafka: &orch_kafka::KafkaConfig,
    archive: &ArchiveArgs,
    filter: &LetterFilter,
) -> anyhow::Result<Letters> {
    let (mut letters, low_watermarks) = {
        let (kafka, filter) = (kafka.clone(), filter.clone());
        tokio::task::spawn_blocking(move || read_topic(&kafka, &filter)).await??
    };
    if let Some(reader) = archive_reader(archive)? {
        read_archive(&reader, filter, &low_watermarks, &mut letters).await?;
        letters.archive_read = true;
    }
    letters
        .found
        .sort_by_key(|f| (f.letter.dead_lettered_at, f.partition, f.offset));
    Ok(letters)
}

/// The topic's letters, and each partition's oldest offset still held.
fn read_topic(
    kafka: &orch_kafka::KafkaConfig,
    filter: &LetterFilter,
) -> anyhow::Result<(Letters, BTreeMap<i32, i64>)> {
    let topic = kafka.topics().dlq;
    let consumer: BaseConsumer = offsets::group_handle(kafka, "orchctl-dlq")?;
    let partitions = offsets::partition_offsets(&consumer, &topic)?;
    let low_watermarks = partitions.iter().map(|p| (p.partition, p.low)).collect();
    let mut assignment = TopicPartitionList::new();
    let mut pending = BTreeSet::new();
    for p in &partitions {
        if p.high > p.low {
            assignment.add_partition_offset(&topic, p.partition, Offset::Offset(p.low))?;
            pending.insert(p.partition);
        }
    }
    consumer.assign(&assignment)?;
    let ends: BTreeMap<i32, i64> = partitions.iter().map(|p| (p.partition, p.high)).collect();
    let mut letters = Letters::default();
    let mut read = 0usize;
    while !pending.is_empty() {
        let Some(message) = consumer.poll(KAFKA_TIMEOUT) else {
            anyhow::bail!("The DLQ stopped answering before its end was reached");
        };
        let message = message?;
        let partition = message.partition();
        if message.offset() + 1 >= ends[&partition] {
            pending.remove(&partition);
        }
        if message.offset() >= ends[&partition] {
            continue;
        }
        read += 1;
        if read.is_multiple_of(10_000) {
            eprintln!("read {read} records of the DLQ topic");
        }
        match serde_json::from_slice::<DeadLetterRecord>(message.payload().unwrap_or_default()) {
            Ok(letter) if filter.wants(&letter) => letters.found.push(Found {
                source: Source::Topic,
                partition,
                offset: message.offset(),
                letter,
            }),
            Ok(_) => {}
            Err(_) => letters.unreadable += 1,
        }
    }
    Ok((letters, low_watermarks))
}

/// Adds the archive's letters that the topic no longer holds.
async fn read_archive(
    reader: &ArchiveReader,
    filter: &LetterFilter,
    low_watermarks: &BTreeMap<i32, i64>,
    letters: &mut Letters,
) -> anyhow::Result<()> {
    // With --since, only the days in the window are listed.
    let manifest = match filter.since {
        Some(since) => reader.manifest_since(since, filter.until).await,
        None => reader.manifest().await,
    }
    .context("Could not read the archive's manifest")?;
    // Offsets below a partition's low watermark are gone from the topic;
    // the rest were read there.
    let gone = |partition: i32, offset: i64| {
        low_watermarks
            .get(&partition)
            .is_none_or(|low| offset < *low)
    };
    for entry in manifest
        .iter()
        .filter(|e| gone(e.partition, e.first_offset))
        .filter(|e| filter.may_hold(e.first_timestamp, e.last_timestamp))
    {
        let archived = reader
            .letters(entry)
            .await
            .with_context(|| format!("Could not read archive object {}", entry.object))?;
        for record in archived {
            if !gone(record.partition, record.offset) {
                continue;
            }
            match record.letter {
                Ok(letter) if filter.wants(&letter) => letters.found.push(Found {
                    source: Source::Archive,
                    partition: record.partition,
                    offset: record.offset,
                    letter,
                }),
                Ok(_) => {}
                Err(_) => letters.unreadable += 1,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_parsed_or_the_kinds_are_listed() {
        assert_eq!(parse_reason("client_error"), Ok(ErrorKind::ClientError));
        let error = parse_reason("oops").unwrap_err();
        assert!(error.contains("retries_exhausted"), "{error}");
    }

    #[test]
    fn a_time_filter_skips_objects_outside_it() {
        let at = |h| OffsetDateTime::UNIX_EPOCH + time::Duration::hours(h);
        let filter = LetterFilter {
            since: Some(at(10)),
            until: Some(at(12)),
            ..LetterFilter::default()
        };
        assert!(filter.may_hold(at(9), at(11)));
        assert!(!filter.may_hold(at(1), at(2)));
        assert!(!filter.may_hold(at(13), at(14)));
    }
}
