//! Delivery controls from the compacted `events.control` topic. Every
//! replica reads the whole topic at start, before it takes any event, so a
//! replica that restarts comes back paused (or at the controlled rate); then
//! it follows the topic and applies each change within a poll interval.
//!
//! The reader is not in a consumer group: each replica reads every record,
//! from the beginning, and commits nothing.

use std::sync::Arc;
use std::time::Duration;

use orch_contracts::{ControlName, ControlRecord, DeliveryControl};
use orch_kafka::{BaseConsumer, KafkaConfig};
use orch_telemetry::InternalEvent as _;
use rdkafka::consumer::Consumer;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::gate::{Gate, Pause};
use crate::internal_events::{ControlApplied, ControlRefused};
use crate::share::RateShare;

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

/// Where controls take effect.
#[derive(Debug, Clone)]
pub(crate) struct ControlTargets {
    pub(crate) gate: Arc<Gate>,
    pub(crate) share: Arc<RateShare>,
}

impl ControlTargets {
    fn apply(&self, record: &ControlRecord) {
        match record.control {
            DeliveryControl::Pause { paused } => self.gate.set_pause(paused.then(|| Pause {
                reason: record.reason.clone(),
                by: record.by.clone(),
                at: record.at,
            })),
            DeliveryControl::Rate { events_per_second } => self
                .share
                .set_control(events_per_second.map(|rate| (rate, record.clone()))),
        }
        ControlApplied { record }.emit();
    }

    /// A tombstone: the control goes back to its default.
    fn clear(&self, name: ControlName) {
        match name {
            ControlName::Pause => self.gate.set_pause(None),
            ControlName::Rate => self.share.set_control(None),
        }
        tracing::info!(
            control = name.as_str(),
            "Control cleared; back to its default."
        );
    }

    fn take(&self, message: &BorrowedMessage<'_>) {
        let key = message.key().unwrap_or_default();
        let Some(payload) = message.payload() else {
            match ControlName::parse(&String::from_utf8_lossy(key)) {
                Some(name) => self.clear(name),
                None => {
                    tracing::debug!(offset = message.offset(), "Tombstone of no known control.")
                }
            }
            return;
        };
        match ControlRecord::read(key, payload) {
            Ok(record) => self.apply(&record),
            Err(error) => ControlRefused {
                offset: message.offset(),
                error: &error,
            }
            .emit(),
        }
    }
}

/// Follows the control topic.
pub(crate) struct ControlReader {
    consumer: BaseConsumer,
    targets: ControlTargets,
}

impl std::fmt::Debug for ControlReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlReader").finish_non_exhaustive()
    }
}

impl ControlReader {
    /// Reads the topic to its end, applying every control, so the state in
    /// force is set before the first event is taken. Blocking.
    pub(crate) fn load(
        kafka: &KafkaConfig,
        client_id: &str,
        targets: ControlTargets,
    ) -> Result<Self, ControlsError> {
        let topic = kafka.topics().control;
        let failed = |source| ControlsError::Kafka {
            topic: topic.clone(),
            source,
        };
        let consumer: BaseConsumer = kafka
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
        let ends: Vec<(i32, i64)> = orch_kafka::partition_ends(&consumer, &topic, LOAD_WITHIN)
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
        let reader = Self { consumer, targets };
        let mut read = 0usize;
        while !reader.reached(&topic, &ends) {
            if std::time::Instant::now() >= deadline {
                return Err(ControlsError::Timeout(topic));
            }
            if let Some(Ok(message)) = reader.consumer.poll(POLL) {
                reader.targets.take(&message);
                read += 1;
            }
        }
        tracing::info!(%topic, read, "Delivery controls loaded.");
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

    /// Applies changes as they arrive until `shutdown`. Blocking: run it on
    /// a thread of its own.
    pub(crate) fn follow(self, shutdown: &CancellationToken) {
        while !shutdown.is_cancelled() {
            match self.consumer.poll(POLL) {
                Some(Ok(message)) => self.targets.take(&message),
                Some(Err(error)) => {
                    tracing::warn!(%error, "Reading the control topic failed; retrying.");
                    std::thread::sleep(POLL);
                }
                None => {}
            }
        }
    }
}
