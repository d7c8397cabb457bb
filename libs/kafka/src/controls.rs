//! Following the compacted `events.control` topic: every reader (each
//! dispatcher replica, each query replica's sweeper) reads the whole topic
//! at start, before it acts, then follows it and hands each change to its
//! [`ControlSink`] within a poll interval.
//!
//! The reader is not in a consumer group: it reads every record, from the
//! beginning, and commits nothing.

use std::time::Duration;

use orch_contracts::{ControlName, ControlRecord, ControlRecordError};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::{AuthContext, KafkaConfig};

/// How long one poll waits; a change applies within about this.
const POLL: Duration = Duration::from_millis(100);
/// How long start-up may take to read the topic to its end.
const LOAD_WITHIN: Duration = Duration::from_secs(30);

/// Why the controls could not be read at start.
#[derive(Debug, thiserror::Error)]
pub enum ControlsError {
    /// The reader could not be created or assigned.
    #[error("could not read the control topic {topic}")]
    Kafka {
        /// The topic.
        topic: String,
        /// Kafka's reason.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The topic's end was not reached in time.
    #[error("the control topic {0} was not read to its end within 30 s")]
    Timeout(String),
}

/// Where a reader's controls take effect.
pub trait ControlSink: Send + 'static {
    /// A control was set.
    fn apply(&self, record: &ControlRecord);
    /// A tombstone: the control goes back to its default, as of `at` (the
    /// record's Kafka timestamp, when it has one).
    fn clear(&self, name: ControlName, at: Option<OffsetDateTime>);
    /// A record that is not a valid control; it is skipped.
    fn refused(&self, offset: i64, error: &ControlRecordError);
}

/// Follows the control topic for one sink.
pub struct ControlReader<S> {
    consumer: BaseConsumer<AuthContext>,
    sink: S,
}

impl<S> std::fmt::Debug for ControlReader<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlReader").finish_non_exhaustive()
    }
}

impl<S: ControlSink> ControlReader<S> {
    /// Reads the topic to its end, handing every control to `sink`, so the
    /// state in force is known before the caller acts. Blocking.
    pub fn load(kafka: &KafkaConfig, client_id: &str, sink: S) -> Result<Self, ControlsError> {
        let topic = kafka.topics().control;
        let failed = |source| ControlsError::Kafka {
            topic: topic.clone(),
            source,
        };
        let consumer: BaseConsumer<AuthContext> = kafka
            .client_config(client_id)
            // A group id is required by librdkafka, but nothing is committed
            // or joined: partitions are assigned by hand.
            .set("group.id", format!("{client_id}-controls"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", POLL.as_millis().to_string())
            .create_with_context(kafka.auth_context())
            .map_err(failed)?;
        let deadline = std::time::Instant::now() + LOAD_WITHIN;
        // A sibling replica may have created the topic a moment ago; its
        // leaders are waited for, not taken as a reason to stop.
        let ends: Vec<(i32, i64)> = crate::partition_ends(&consumer, &topic, LOAD_WITHIN)
            .map_err(failed)?
            .into_iter()
            .map(|p| (p.partition, p.high))
            .collect();
        let mut assignment = TopicPartitionList::new();
        for (partition, _) in &ends {
            assignment
                .add_partition_offset(&topic, *partition, Offset::Beginning)
                .map_err(failed)?;
        }
        consumer.assign(&assignment).map_err(failed)?;
        let reader = Self { consumer, sink };
        let mut read = 0usize;
        while !reader.reached(&topic, &ends) {
            if std::time::Instant::now() >= deadline {
                return Err(ControlsError::Timeout(topic));
            }
            if let Some(Ok(message)) = reader.consumer.poll(POLL) {
                reader.take(&message);
                read += 1;
            }
        }
        tracing::info!(%topic, read, client_id, "Delivery controls loaded.");
        Ok(reader)
    }

    fn reached(&self, topic: &str, ends: &[(i32, i64)]) -> bool {
        let Ok(positions) = self.consumer.position() else {
            return false;
        };
        ends.iter().all(|(partition, high)| {
            *high <= 0
                || positions
                    .find_partition(topic, *partition)
                    .is_some_and(|p| matches!(p.offset(), Offset::Offset(at) if at >= *high))
        })
    }

    fn take(&self, message: &BorrowedMessage<'_>) {
        let key = message.key().unwrap_or_default();
        let Some(payload) = message.payload() else {
            match ControlName::parse(&String::from_utf8_lossy(key)) {
                Some(name) => {
                    let at = message.timestamp().to_millis().and_then(|ms| {
                        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
                    });
                    self.sink.clear(name, at);
                }
                None => {
                    tracing::debug!(offset = message.offset(), "Tombstone of no known control.")
                }
            }
            return;
        };
        match ControlRecord::read(key, payload) {
            Ok(record) => self.sink.apply(&record),
            Err(error) => self.sink.refused(message.offset(), &error),
        }
    }

    /// Hands changes to the sink as they arrive until `shutdown`. Blocking:
    /// run it on a thread of its own.
    pub fn follow(self, shutdown: &CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.consumer.poll(POLL) {
                Some(Ok(message)) => self.take(&message),
                Some(Err(error)) => {
                    tracing::warn!(error = %orch_telemetry::error_chain(&error), "Reading the control topic failed; retrying.");
                    std::thread::sleep(POLL);
                }
                None => {}
            }
        }
    }
}
