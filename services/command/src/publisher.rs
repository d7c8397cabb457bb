use std::sync::Arc;
use std::time::{Duration, Instant};

use orch_contracts::RawEventRecord;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::CommandConfig;

/// Why a record was not acknowledged by Kafka.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PublishError {
    /// No acknowledgement within the publish timeout.
    #[error("Kafka did not acknowledge the record within {0:?}")]
    Timeout(Duration),
    /// The broker or client refused the record.
    #[error("Kafka refused the record")]
    Kafka(#[source] KafkaError),
}

/// Writes raw records to `events.raw` and waits for the broker's acknowledgement.
#[derive(Clone)]
pub(crate) struct Publisher {
    producer: FutureProducer,
    topic: Arc<str>,
    timeout: Duration,
}

impl Publisher {
    /// A producer tuned for small records that must be durable before we answer.
    pub(crate) fn new(config: &CommandConfig) -> Result<Self, KafkaError> {
        let producer: FutureProducer = config
            .kafka
            .client_config("orch-command")
            // Idempotence: librdkafka's retries can never duplicate or reorder a
            // record within a partition; it also implies acks=all.
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // A 5 ms linger lets concurrent requests share a batch (and one
            // fsync on the broker) while costing at most 5 ms of the 500 ms budget.
            .set("linger.ms", "5")
            // JSON compresses well and lz4 costs little CPU on a 2-core box.
            .set("compression.type", "lz4")
            // librdkafka keeps retrying a record this long; after we answer 503
            // a record may still land, which loses nothing (it is delivered).
            .set("message.timeout.ms", "30000")
            .create()?;
        Ok(Self {
            producer,
            topic: config.kafka.topics().raw.into(),
            timeout: config.publish_timeout(),
        })
    }

    /// Publishes `record` keyed by its id, with trace headers, and waits until
    /// Kafka acknowledges it with `acks=all` or the publish timeout passes.
    pub(crate) async fn publish(
        &self,
        record: &RawEventRecord,
        traceparent: &str,
        tracestate: Option<&str>,
    ) -> Result<(), PublishError> {
        let payload = orch_contracts::to_json(record);
        let future_record = FutureRecord::to(&self.topic)
            .key(record.id.as_str())
            .payload(&payload)
            .headers(orch_kafka::record_headers(traceparent, tracestate));
        let started = Instant::now();
        let sent = tokio::time::timeout(
            self.timeout,
            self.producer
                .send(future_record, Timeout::After(self.timeout)),
        )
        .await;
        metrics::histogram!("produce_duration_seconds").record(started.elapsed().as_secs_f64());
        match sent {
            Err(_) => Err(PublishError::Timeout(self.timeout)),
            Ok(Err((error, _))) => Err(PublishError::Kafka(error)),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// Whether a broker answers a metadata request within a second.
    pub(crate) async fn broker_reachable(&self) -> bool {
        let producer = self.producer.clone();
        let topic = self.topic.clone();
        // fetch_metadata blocks the calling thread; keep it off the runtime.
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), Duration::from_secs(1))
                .is_ok()
        })
        .await
        .unwrap_or(false)
    }

    /// Waits for every queued record to be acknowledged, for shutdown.
    pub(crate) async fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .unwrap_or(Err(KafkaError::Canceled))
    }
}
