use std::sync::Arc;
use std::time::Duration;

use orch_contracts::{DeadLetterRecord, StatusRecord};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use serde::Serialize;

use crate::DispatcherConfig;

/// Writes status records and dead letters, waiting for Kafka's acknowledgement:
/// an offset is only stored after the outcome it stands for is durable.
#[derive(Clone)]
pub(crate) struct OutcomeWriter {
    producer: FutureProducer,
    status_topic: Arc<str>,
    dlq_topic: Arc<str>,
}

impl OutcomeWriter {
    pub(crate) fn new(config: &DispatcherConfig) -> Result<Self, KafkaError> {
        let producer: FutureProducer = config
            .kafka
            .client_config("orch-dispatcher")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            .create()?;
        let topics = config.kafka.topics();
        Ok(Self {
            producer,
            status_topic: topics.status.into(),
            dlq_topic: topics.dlq.into(),
        })
    }

    /// Writes one status record keyed by event id.
    pub(crate) async fn status(
        &self,
        record: &StatusRecord,
        traceparent: &str,
    ) -> Result<(), KafkaError> {
        self.write_json(&self.status_topic, &record.id, record, traceparent)
            .await
    }

    /// Writes one dead letter keyed by event id.
    pub(crate) async fn dead_letter(
        &self,
        record: &DeadLetterRecord,
        traceparent: &str,
    ) -> Result<(), KafkaError> {
        self.write_json(&self.dlq_topic, &record.id, record, traceparent)
            .await
    }

    async fn write_json<T: Serialize>(
        &self,
        topic: &str,
        id: &str,
        record: &T,
        traceparent: &str,
    ) -> Result<(), KafkaError> {
        let payload = orch_contracts::to_json(record);
        let headers = orch_kafka::record_headers(traceparent, None);
        self.send(topic, id.as_bytes(), &payload, headers).await
    }

    /// Copies an unreadable raw record to the DLQ unchanged, so nothing is dropped.
    pub(crate) async fn unreadable(
        &self,
        key: &[u8],
        payload: &[u8],
        headers: OwnedHeaders,
    ) -> Result<(), KafkaError> {
        self.send(&self.dlq_topic, key, payload, headers).await
    }

    async fn send(
        &self,
        topic: &str,
        key: &[u8],
        payload: &[u8],
        headers: OwnedHeaders,
    ) -> Result<(), KafkaError> {
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(payload)
            .headers(headers);
        self.producer
            .send(record, Timeout::Never)
            .await
            .map(|_| ())
            .map_err(|(error, _)| error)
    }

    /// Waits for queued records at shutdown.
    pub(crate) async fn flush(&self, timeout: Duration) {
        let producer = self.producer.clone();
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || producer.flush(timeout)).await {
            tracing::error!(%error, "Outcome producer flush at shutdown failed.");
        }
    }
}
