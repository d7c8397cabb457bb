//! Reading the topics from their oldest records to a fixed end, batch by
//! batch, through the live projector's write path.

use std::collections::HashMap;
use std::time::Duration;

use orch_kafka::KafkaConfig;
use orch_kafka::StreamConsumer;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};
use sqlx::PgPool;

use super::RebuildError;
use crate::projector::{Batch, OnTransient, Origin, write_isolating};

/// Records per transaction, as the live projector's default: a rebuild is all
/// catch-up, where large batches cost least per record.
const BATCH_MAX: usize = 5_000;

/// One partition to read: from `low` (the oldest record the log holds) up to,
/// not including, `high`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEnd {
    pub topic: String,
    pub partition: i32,
    pub low: i64,
    pub high: i64,
}

/// Projects every record of `ends` into `pool`'s schema and returns how many
/// were read. `progress` hears the running count after every batch.
pub async fn project_log(
    pool: &PgPool,
    kafka: &KafkaConfig,
    ends: &[LogEnd],
    mut progress: impl FnMut(u64),
) -> Result<u64, RebuildError> {
    let topics = kafka.topics();
    // Assigned, not subscribed, and never committing: the rebuild reads as an
    // outsider and leaves every group's offsets alone.
    let consumer: StreamConsumer = kafka
        .client_config("orch-rebuild")
        .set("group.id", "orch-rebuild")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create_with_context(kafka.auth_context())?;
    let mut pending: HashMap<(String, i32), i64> = ends
        .iter()
        .filter(|end| end.high > end.low)
        .map(|end| ((end.topic.clone(), end.partition), end.high))
        .collect();
    let mut assignment = TopicPartitionList::new();
    for end in ends.iter().filter(|end| end.high > end.low) {
        assignment.add_partition_offset(&end.topic, end.partition, Offset::Offset(end.low))?;
    }
    consumer.assign(&assignment)?;

    let mut read = 0;
    while !pending.is_empty() {
        let mut batch = Batch::default();
        let mut count = 0;
        while count < BATCH_MAX && !pending.is_empty() {
            let message = match consumer.recv().await {
                Ok(message) => message,
                // Transaction markers can sit between the last record and the
                // end: at end of partition, trust the position.
                Err(KafkaError::PartitionEOF(_)) => {
                    finish_reached(&consumer, &mut pending)?;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let key = (message.topic().to_owned(), message.partition());
            let Some(&high) = pending.get(&key) else {
                continue;
            };
            if message.offset() >= high {
                pending.remove(&key);
                continue;
            }
            count += 1;
            let payload = message.payload().unwrap_or_default();
            let origin = Origin {
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: message.offset(),
            };
            if let Err(error) = batch.push(&topics, origin, payload) {
                tracing::warn!(topic = message.topic(), partition = message.partition(),
                    offset = message.offset(), error = %orch_telemetry::error_chain(&error), "Quarantining an unreadable record, as the live projector does.");
            }
            if message.offset() + 1 >= high {
                pending.remove(&key);
            }
        }
        if !batch.is_empty() {
            write_isolating(pool, batch, &mut Attended::default()).await?;
        }
        read += count as u64;
        progress(read);
    }
    Ok(read)
}

/// Drops every partition whose position has reached its end.
fn finish_reached(
    consumer: &StreamConsumer,
    pending: &mut HashMap<(String, i32), i64>,
) -> Result<(), KafkaError> {
    let position = consumer.position()?;
    pending.retain(|(topic, partition), high| {
        let at = position
            .find_partition(topic, *partition)
            .and_then(|entry| match entry.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            });
        at.is_none_or(|at| at < *high)
    });
    Ok(())
}

/// A rebuild is attended: a few quick retries, then the operator hears why.
/// Records Postgres refuses are quarantined in the rebuilt schema exactly as
/// the live projector quarantines them.
#[derive(Debug)]
struct Attended {
    retries: orch_kafka::Retries,
}

/// Retries a rebuild makes of one write before it gives up.
const ATTENDED_RETRIES: u32 = 4;

impl Default for Attended {
    fn default() -> Self {
        let backoff = orch_kafka::Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs(2),
        };
        Self {
            retries: backoff.retries(),
        }
    }
}

impl OnTransient for Attended {
    async fn wait(&mut self, error: &sqlx::Error) -> Result<(), ()> {
        if self.retries.failures() == ATTENDED_RETRIES {
            return Err(());
        }
        tracing::warn!(error = %orch_telemetry::error_chain(error), "Rebuild write failed; retrying.");
        tokio::time::sleep(self.retries.failed()).await;
        Ok(())
    }
}
