use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orch_contracts::RawEventRecord;
use orch_kafka::FutureProducer;
use orch_telemetry::EventContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureRecord, Producer};

use crate::durable::Durable;
use crate::internal_events::ProduceFailed;
use crate::spool::{Spool, SpoolError};
use crate::spooled::SpooledRecord;
use orch_telemetry::InternalEvent as _;

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
    kafka: KafkaHealth,
}

/// Whether Kafka is stalled, as the publisher sees it. A record that misses
/// the budget while others are acknowledged is one slow record (a busy
/// partition, a hiccup): it is spooled, and the next still gets the budget.
/// Only when Kafka acknowledged nothing for a whole budget is it stalled:
/// then events go to the spool without waiting, so answers stay fast for the
/// whole outage, until its next acknowledgement.
#[derive(Debug, Clone)]
struct KafkaHealth {
    stalled: Arc<AtomicBool>,
    /// Milliseconds after `epoch` of the last acknowledgement, plus one (0: none yet).
    last_ack_ms: Arc<AtomicU64>,
    epoch: Instant,
}

impl KafkaHealth {
    fn new() -> Self {
        Self {
            stalled: Arc::new(AtomicBool::new(false)),
            last_ack_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }

    /// How long a new record may wait for its acknowledgement.
    fn budget(&self, full: Duration) -> Duration {
        if self.stalled.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            full
        }
    }

    fn acknowledged(&self) {
        self.last_ack_ms.store(self.now_ms(), Ordering::Relaxed);
        self.stalled.store(false, Ordering::Relaxed);
    }

    /// Kafka refused a record outright: it is failing.
    fn failed(&self) {
        self.stalled.store(true, Ordering::Relaxed);
    }

    /// A record missed `budget`; true if that makes Kafka stalled now (it
    /// acknowledged nothing within the budget), false if it was already or
    /// if others were acknowledged meanwhile.
    fn missed(&self, budget: Duration) -> bool {
        let last = self.last_ack_ms.load(Ordering::Relaxed);
        let window = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && self.now_ms().saturating_sub(last) <= window {
            return false;
        }
        !self.stalled.swap(true, Ordering::Relaxed)
    }
}

/// The producer's settings and the budget Kafka gets before the spool
/// takes a record (from `CommandConfig::publisher_settings`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublisherSettings {
    pub(crate) linger_ms: u64,
    pub(crate) batch_bytes: u64,
    pub(crate) message_max_bytes: usize,
    pub(crate) message_timeout_ms: u64,
    pub(crate) budget: Duration,
}

impl Publisher {
    /// A producer tuned for small records that must be durable before we answer.
    pub(crate) fn new(
        kafka: &orch_kafka::KafkaConfig,
        settings: PublisherSettings,
        spool: Spool,
    ) -> Result<Self, KafkaError> {
        let producer: FutureProducer = kafka
            // A short linger lets concurrent requests share a batch (and one
            // fsync on the broker) while costing little of the 500 ms budget.
            .durable_producer_config("orch-command", settings.linger_ms)
            .set("batch.size", settings.batch_bytes.to_string())
            .set("message.max.bytes", settings.message_max_bytes.to_string())
            // How long librdkafka keeps trying one record. A record spooled
            // meanwhile is forwarded only after this attempt has failed, so a
            // shorter timeout drains the spool sooner after an outage.
            .set(
                "message.timeout.ms",
                settings.message_timeout_ms.to_string(),
            )
            .create_with_context(kafka.auth_context())?;
        Ok(Self {
            producer,
            spool,
            topic: kafka.topics().raw.into(),
            budget: settings.budget,
            kafka: KafkaHealth::new(),
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
        context: &EventContext,
    ) -> Result<Durable, PublishError> {
        let payload = orch_contracts::to_json(record);
        let future_record = FutureRecord::to(&self.topic)
            .key(record.id.as_str())
            .payload(&payload)
            .headers(orch_kafka::record_headers(context));
        let started = Instant::now();
        let delivery = match self.producer.send_result(future_record) {
            Ok(delivery) => delivery,
            Err((error, _)) => {
                // The producer's queue is full or it is failing: spool at once.
                tracing::debug!(error = %orch_telemetry::error_chain(&error), "Producer refused the record; spooling it.");
                return self
                    .spool(record, context, &payload, false)
                    .await
                    .map(|_| Durable::Spool);
            }
        };
        let mut delivery = Box::pin(delivery);
        let budget = self.kafka.budget(self.budget);
        let outcome = tokio::time::timeout(budget, &mut delivery).await;
        metrics::histogram!("orch_produce_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(Ok(Ok(_))) => {
                self.kafka.acknowledged();
                Ok(Durable::Kafka)
            }
            Ok(Ok(Err((error, _)))) => {
                self.kafka.failed();
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
                if !budget.is_zero() && self.kafka.missed(budget) {
                    tracing::warn!(
                        budget_ms = budget.as_millis() as u64,
                        "Kafka acknowledged nothing within the publish budget; spooling until it acknowledges again."
                    );
                }
                self.spool_pending(record, context, &payload, delivery)
                    .await
            }
        }
    }

    /// Spools a record that is still queued in the producer, and tells the
    /// spool how that attempt ends, so the forwarder never sends it twice.
    ///
    /// The append marks the record pending, and only the resolver clears
    /// the mark; so both run in one spawned task that the request cannot
    /// cancel. If the request's deadline drops this future while the append
    /// is under way, the task still learns the producer's answer and clears
    /// the mark; otherwise the forwarder would stop at this record for good.
    async fn spool_pending(
        &self,
        record: &RawEventRecord,
        context: &EventContext,
        payload: &[u8],
        delivery: std::pin::Pin<Box<rdkafka::producer::DeliveryFuture>>,
    ) -> Result<Durable, PublishError> {
        let spooled =
            SpooledRecord::new(&record.id, context, payload).ok_or(PublishError::Encoding)?;
        let (spool, kafka) = (self.spool.clone(), self.kafka.clone());
        let (answer, answered) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let started = Instant::now();
            let appended = spool.append(spooled.encode(), true).await;
            metrics::histogram!("orch_spool_append_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            let seq = appended.as_ref().ok().copied();
            let _ = answer.send(appended);
            let Some(seq) = seq else { return };
            let delivered = matches!(delivery.await, Ok(Ok(_)));
            if delivered {
                kafka.acknowledged();
            }
            spool.resolve_original(seq, delivered);
        });
        match answered.await {
            Ok(appended) => appended.map(|_| Durable::Spool).map_err(PublishError::from),
            Err(_) => Err(PublishError::Spool(SpoolError::Closed)),
        }
    }

    async fn spool(
        &self,
        record: &RawEventRecord,
        context: &EventContext,
        payload: &[u8],
        original_pending: bool,
    ) -> Result<u64, PublishError> {
        let spooled =
            SpooledRecord::new(&record.id, context, payload).ok_or(PublishError::Encoding)?;
        let started = Instant::now();
        let result = self.spool.append(spooled.encode(), original_pending).await;
        metrics::histogram!("orch_spool_append_duration_seconds")
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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use orch_kafka::KafkaConfig;
    use orch_telemetry::{TelemetryConfig, TraceHeaders};

    use super::*;
    use crate::CommandConfig;
    use crate::spool::Original;

    #[test]
    fn one_slow_record_among_acknowledged_ones_does_not_stall_kafka_but_silence_does() {
        let budget = Duration::from_millis(150);
        let kafka = KafkaHealth::new();
        assert_eq!(kafka.budget(budget), budget);
        kafka.acknowledged();
        assert!(
            !kafka.missed(budget),
            "acknowledged just now: one slow record"
        );
        assert_eq!(
            kafka.budget(budget),
            budget,
            "the next record gets the budget"
        );

        let silent = KafkaHealth::new();
        assert!(silent.missed(budget), "nothing acknowledged: stalled");
        assert!(!silent.missed(budget), "already stalled: reported once");
        assert_eq!(silent.budget(budget), Duration::ZERO);
        silent.acknowledged();
        assert_eq!(silent.budget(budget), budget, "an acknowledgement ends it");
        silent.failed();
        assert_eq!(
            silent.budget(budget),
            Duration::ZERO,
            "a refusal stalls at once"
        );
    }

    fn config(spool_dir: &std::path::Path) -> CommandConfig {
        CommandConfig {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            source_key_hashes: orch_http::ApiKeys::parse(&orch_http::hash_key("k")).unwrap(),
            max_body_bytes: 64 * 1024,
            publish_budget_ms: 1,
            request_deadline_ms: 450,
            kafka_linger_ms: 0,
            kafka_batch_bytes: 1_000_000,
            kafka_message_max_bytes: 1_000_000,
            // Nothing listens at the bootstrap address: every record times
            // out in the producer after this, as in an outage.
            kafka_message_timeout_ms: 300,
            spool_dir: spool_dir.to_owned(),
            spool_max_bytes: 1 << 30,
            spool_segment_bytes: 1 << 20,
            status_base_url: "http://query.test".into(),
            kafka: KafkaConfig::local("127.0.0.1:9", "t."),
            http: orch_http::ServerLimits::default(),
            telemetry: TelemetryConfig::local(),
        }
    }

    fn pending(spool: &Spool) -> usize {
        spool
            .shared()
            .lock_originals()
            .values()
            .filter(|original| **original == Original::Pending)
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_at_any_moment_never_leaves_a_record_pending_for_ever() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 30, 1 << 20, 1 << 20).unwrap();
        let config = config(dir.path());
        let publisher =
            Publisher::new(&config.kafka, config.publisher_settings(), spool.clone()).unwrap();
        let context = EventContext {
            trace: TraceHeaders::from_values(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            )
            .unwrap(),
            correlation_id: None,
        };
        // The request deadline drops the publish at every moment from before
        // the spool append to after its fsync, as a slow disk would have it.
        let mut spooled = 0;
        for step in 0..200u64 {
            let record = RawEventRecord::new(
                orch_contracts::EventId::parse(&format!("e{step}")).unwrap(),
                "n".into(),
                "b".into(),
                time::OffsetDateTime::UNIX_EPOCH,
                "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                serde_json::Map::new(),
            );
            let deadline = Duration::from_micros(step * 25);
            if let Ok(Ok(_)) =
                tokio::time::timeout(deadline, publisher.publish(&record, &context)).await
            {
                spooled += 1;
            }
        }
        let appended = spool.stats().depth;
        assert!(
            appended > spooled,
            "some requests were dropped after their append: {appended} appended, {spooled} answered"
        );
        // Every producer attempt has failed by now; each must have cleared
        // its mark, or the forwarder would stop at that record for good.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while pending(&spool) > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} records stay pending for ever",
                pending(&spool)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
