use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use orch_contracts::RawEventRecord;
use orch_kafka::FutureProducer;
use orch_kafka::RecordContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureRecord, Producer};

use crate::CommandConfig;
use crate::internal_events::ProduceFailed;
use crate::spool::{Spool, SpoolError};
use crate::spooled::SpooledRecord;
use orch_telemetry::InternalEvent as _;

/// Where an accepted record was made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durable {
    /// Kafka acknowledged it with `acks=all`.
    Kafka,
    /// Kafka was too slow or down; it is fsync'd in the local spool.
    Spool,
}

/// Why a record was not made durable (the caller answers 503).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PublishError {
    /// Kafka did not acknowledge it and the spool could not take it either.
    #[error("Kafka did not acknowledge the record and the spool refused it: {0}")]
    Spool(#[from] SpoolError),
    /// The record could not be encoded for the spool (not valid UTF-8 JSON).
    #[error("the record could not be encoded")]
    Encoding,
}

/// Writes raw records to `events.raw`, falling back to the spool when Kafka does
/// not acknowledge within the budget.
#[derive(Clone)]
pub(crate) struct Publisher {
    producer: FutureProducer,
    spool: Spool,
    topic: Arc<str>,
    budget: Duration,
    /// Set when Kafka missed the budget or failed, cleared by its next
    /// acknowledgement. While set, events go to the spool without waiting out
    /// the budget, so answers stay fast for the whole outage.
    kafka_slow: Arc<AtomicBool>,
}

impl Publisher {
    /// A producer tuned for small records that must be durable before we answer.
    pub(crate) fn new(config: &CommandConfig, spool: Spool) -> Result<Self, KafkaError> {
        let producer: FutureProducer = config
            .kafka
            .client_config("orch-command")
            // Idempotence: librdkafka's retries can never duplicate or reorder a
            // record within a partition; it also implies acks=all.
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // A short linger lets concurrent requests share a batch (and one
            // fsync on the broker) while costing little of the 500 ms budget.
            .set("linger.ms", config.kafka_linger_ms.to_string())
            .set("batch.size", config.kafka_batch_bytes.to_string())
            // JSON compresses well and lz4 costs little CPU on a 2-core box.
            .set("compression.type", "lz4")
            // How long librdkafka keeps trying one record. A record spooled
            // meanwhile is forwarded only after this attempt has failed, so a
            // shorter timeout drains the spool sooner after an outage.
            .set(
                "message.timeout.ms",
                config.kafka_message_timeout_ms.to_string(),
            )
            .create_with_context(config.kafka.auth_context())?;
        Ok(Self {
            producer,
            spool,
            topic: config.kafka.topics().raw.into(),
            budget: config.publish_budget(),
            kafka_slow: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The producer, shared with the spool forwarder.
    pub(crate) fn producer(&self) -> &FutureProducer {
        &self.producer
    }

    /// Makes `record` durable: in Kafka if it acknowledges within the budget,
    /// otherwise in the spool.
    pub(crate) async fn publish(
        &self,
        record: &RawEventRecord,
        context: &RecordContext,
    ) -> Result<Durable, PublishError> {
        let payload = orch_contracts::to_json(record);
        let future_record = FutureRecord::to(&self.topic)
            .key(record.id.as_str())
            .payload(&payload)
            .headers(context.headers());
        let started = Instant::now();
        let delivery = match self.producer.send_result(future_record) {
            Ok(delivery) => delivery,
            Err((error, _)) => {
                // The producer's queue is full or it is failing: spool at once.
                tracing::debug!(%error, "Producer refused the record; spooling it.");
                return self
                    .spool(record, context, &payload, false)
                    .await
                    .map(|_| Durable::Spool);
            }
        };
        let mut delivery = Box::pin(delivery);
        let budget = if self.kafka_slow.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            self.budget
        };
        let outcome = tokio::time::timeout(budget, &mut delivery).await;
        metrics::histogram!("produce_duration_seconds").record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(Ok(Ok(_))) => {
                self.kafka_slow.store(false, Ordering::Relaxed);
                Ok(Durable::Kafka)
            }
            Ok(Ok(Err((error, _)))) => {
                self.kafka_slow.store(true, Ordering::Relaxed);
                ProduceFailed { error: &error }.emit();
                self.spool(record, context, &payload, false)
                    .await
                    .map(|_| Durable::Spool)
            }
            Ok(Err(_canceled)) => self
                .spool(record, context, &payload, false)
                .await
                .map(|_| Durable::Spool),
            Err(_elapsed) => {
                if !budget.is_zero() {
                    tracing::warn!(
                        budget_ms = budget.as_millis() as u64,
                        "Kafka missed the publish budget; spooling until it acknowledges again."
                    );
                }
                self.kafka_slow.store(true, Ordering::Relaxed);
                // Still queued in the producer: spool it, and tell the spool how
                // that attempt ends so the forwarder never sends it twice.
                let seq = self.spool(record, context, &payload, true).await?;
                let spool = self.spool.clone();
                let kafka_slow = self.kafka_slow.clone();
                tokio::spawn(async move {
                    let delivered = matches!(delivery.await, Ok(Ok(_)));
                    if delivered {
                        kafka_slow.store(false, Ordering::Relaxed);
                    }
                    spool.resolve_original(seq, delivered);
                });
                Ok(Durable::Spool)
            }
        }
    }

    async fn spool(
        &self,
        record: &RawEventRecord,
        context: &RecordContext,
        payload: &[u8],
        original_pending: bool,
    ) -> Result<u64, PublishError> {
        let spooled =
            SpooledRecord::new(&record.id, context, payload).ok_or(PublishError::Encoding)?;
        let started = Instant::now();
        let result = self.spool.append(spooled.encode(), original_pending).await;
        metrics::histogram!("spool_append_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(result?)
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
