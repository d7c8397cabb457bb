use std::sync::Arc;
use std::time::Duration;

use orch_contracts::{DeadLetterRecord, StatusRecord};
use orch_kafka::FutureProducer;
use orch_telemetry::EventContext;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::util::Timeout;
use serde::Serialize;
use tracing::Instrument as _;

/// Writes status records and dead letters, waiting for Kafka's acknowledgement:
/// an offset is only stored after the outcome it stands for is durable.
#[derive(Clone)]
pub(crate) struct OutcomeWriter {
    producer: FutureProducer,
    status_topic: Arc<str>,
    dlq_topic: Arc<str>,
}

impl OutcomeWriter {
    pub(crate) fn new(kafka: &orch_kafka::KafkaConfig) -> Result<Self, KafkaError> {
        let producer: FutureProducer = kafka
            // 2 ms cost a quarter of the deliveries per CPU-second (bench).
            .durable_producer_config("orch-dispatcher", 5)
            .create_with_context(kafka.auth_context())?;
        let topics = kafka.topics();
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
        correlation_id: Option<&str>,
    ) -> Result<(), KafkaError> {
        let span = tracing::info_span!(
            "publish_status",
            otel.kind = "producer",
            messaging.system = "kafka",
            messaging.destination.name = %self.status_topic,
            status = record.status.as_str(),
        );
        self.write_json(&self.status_topic, &record.id, record, correlation_id, span)
            .await
    }

    /// Writes one dead letter keyed by event id.
    pub(crate) async fn dead_letter(
        &self,
        record: &DeadLetterRecord,
        correlation_id: Option<&str>,
    ) -> Result<(), KafkaError> {
        let span = tracing::info_span!(
            "publish_dead_letter",
            otel.kind = "producer",
            messaging.system = "kafka",
            messaging.destination.name = %self.dlq_topic,
        );
        self.write_json(&self.dlq_topic, &record.id, record, correlation_id, span)
            .await
    }

    /// Writes `record` under `span`, whose context its headers carry, so the
    /// projector's span for it hangs under this write.
    async fn write_json<T: Serialize>(
        &self,
        topic: &str,
        id: &str,
        record: &T,
        correlation_id: Option<&str>,
        span: tracing::Span,
    ) -> Result<(), KafkaError> {
        let payload = orch_contracts::to_json(record);
        let headers = orch_kafka::record_headers(&EventContext::for_span(
            &span,
            correlation_id.map(str::to_owned),
        ));
        self.send(topic, id.as_bytes(), &payload, headers)
            .instrument(span)
            .await
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
            tracing::error!(error = %orch_telemetry::error_chain(&error), "Outcome producer flush at shutdown failed.");
        }
    }
}
