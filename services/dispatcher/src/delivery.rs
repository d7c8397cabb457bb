use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use governor::DefaultDirectRateLimiter;
use orch_contracts::{
    AttemptRecord, DeadLetterRecord, ErrorKind, HEADER_TRACEPARENT, RawEventRecord, Status,
    StatusRecord, TraceContext,
};
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::classify::Verdict;
use crate::enrich::{EnrichedEvent, Enricher};
use crate::graphql::{Attempt, TargetClient};
use crate::outcomes::OutcomeWriter;

/// Backoff for re-sending an outcome record while Kafka is unavailable.
const OUTCOME_RETRY: Backoff = Backoff {
    base: Duration::from_millis(100),
    max: Duration::from_secs(5),
};

/// The dispatcher is stopping before this event's outcome was made durable; its
/// offset must not be stored, so the group delivers it again.
#[derive(Debug)]
pub(crate) struct Abandoned;

/// Takes one raw record all the way to a durable outcome.
pub(crate) struct Deliverer {
    pub(crate) target: TargetClient,
    pub(crate) limiter: Arc<DefaultDirectRateLimiter>,
    pub(crate) enricher: Enricher,
    pub(crate) outcomes: OutcomeWriter,
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: u32,
    pub(crate) shutdown: CancellationToken,
}

impl Deliverer {
    /// Delivers, retries or dead-letters `message`; `Ok` once its outcome is in
    /// Kafka, so the caller may store its offset.
    pub(crate) async fn process(&self, message: &OwnedMessage) -> Result<(), Abandoned> {
        let payload = message.payload().unwrap_or_default();
        let parent = message
            .headers()
            .and_then(|headers| orch_kafka::header_str(headers, HEADER_TRACEPARENT))
            .and_then(|value| TraceContext::parse(value).ok());
        let trace = parent.map_or_else(TraceContext::new_root, |parent| parent.child());
        let traceparent = trace.to_header();

        let event: RawEventRecord = match serde_json::from_slice(payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(partition = message.partition(), offset = message.offset(), %error,
                    "Raw record is unreadable; copying it to the DLQ.");
                metrics::counter!("deliveries_total", "outcome" => "unreadable").increment(1);
                let headers = message.headers().cloned().unwrap_or_default();
                let key = message.key().unwrap_or_default();
                return self
                    .durably(|| self.outcomes.unreadable(key, payload, headers.clone()))
                    .await;
            }
        };
        let enriched = self.enricher.enrich(&event);
        let mut history = Vec::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            tokio::select! {
                () = self.shutdown.cancelled() => return Err(Abandoned),
                () = self.limiter.until_ready() => {}
            }
            let result = self.target.create_item(&enriched, &traceparent).await;
            metrics::histogram!("delivery_attempt_duration_seconds")
                .record(result.latency.as_secs_f64());
            match result.verdict.clone() {
                Verdict::Delivered => {
                    return self
                        .delivered(&event, &enriched, attempt, &result, &traceparent)
                        .await;
                }
                Verdict::Poison { kind, message } => {
                    history.push(attempt_record(attempt, &result, kind, &message));
                    return self
                        .dead_letter(event, &enriched, kind, message, history, &traceparent)
                        .await;
                }
                Verdict::Retry {
                    kind,
                    retry_after,
                    message,
                } => {
                    history.push(attempt_record(attempt, &result, kind, &message));
                    metrics::counter!("delivery_retries_total", "kind" => kind.as_str())
                        .increment(1);
                    if attempt >= self.max_attempts {
                        let message = format!("gave up after {attempt} attempts; last: {message}");
                        return self
                            .dead_letter(
                                event,
                                &enriched,
                                ErrorKind::RetriesExhausted,
                                message,
                                history,
                                &traceparent,
                            )
                            .await;
                    }
                    tracing::warn!(event_id = %event.id, attempt, error_kind = kind.as_str(), %message,
                        "Delivery failed; retrying.");
                    let record = StatusRecord {
                        http_status: result.http_status,
                        error_kind: Some(kind),
                        error_message: Some(message),
                        latency_ms: Some(millis(result.latency)),
                        brand: Some(enriched.brand.clone()),
                        ..StatusRecord::new(
                            &event.id,
                            Status::Retrying,
                            attempt,
                            &event.trace_id,
                            event.generation,
                        )
                    };
                    self.durably(|| self.outcomes.status(&record, &traceparent))
                        .await?;
                    let delay = self.backoff.delay(attempt, retry_after);
                    tokio::select! {
                        () = self.shutdown.cancelled() => return Err(Abandoned),
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    async fn delivered(
        &self,
        event: &RawEventRecord,
        enriched: &EnrichedEvent,
        attempt: u32,
        result: &Attempt,
        traceparent: &str,
    ) -> Result<(), Abandoned> {
        let record = StatusRecord {
            http_status: result.http_status,
            latency_ms: Some(millis(result.latency)),
            brand: Some(enriched.brand.clone()),
            ..StatusRecord::new(
                &event.id,
                Status::Delivered,
                attempt,
                &event.trace_id,
                event.generation,
            )
        };
        self.durably(|| self.outcomes.status(&record, traceparent))
            .await?;
        metrics::counter!("deliveries_total", "outcome" => "delivered").increment(1);
        tracing::info!(event_id = %event.id, attempt, "Event delivered.");
        Ok(())
    }

    async fn dead_letter(
        &self,
        event: RawEventRecord,
        enriched: &EnrichedEvent,
        kind: ErrorKind,
        message: String,
        history: Vec<AttemptRecord>,
        traceparent: &str,
    ) -> Result<(), Abandoned> {
        let last = history.last().cloned();
        let status = StatusRecord {
            http_status: last.as_ref().and_then(|a| a.http_status),
            error_kind: Some(kind),
            error_message: Some(message.clone()),
            latency_ms: last.as_ref().map(|a| a.latency_ms),
            brand: Some(enriched.brand.clone()),
            ..StatusRecord::new(
                &event.id,
                Status::DeadLettered,
                history.len() as u32,
                &event.trace_id,
                event.generation,
            )
        };
        tracing::warn!(event_id = %event.id, error_kind = kind.as_str(), %message, "Event dead-lettered.");
        let letter = DeadLetterRecord::new(event, enriched.brand.clone(), kind, message, history);
        // The dead letter goes first: a `dead_lettered` status must never point
        // at a DLQ record that does not exist.
        self.durably(|| self.outcomes.dead_letter(&letter, traceparent))
            .await?;
        self.durably(|| self.outcomes.status(&status, traceparent))
            .await?;
        metrics::counter!("deliveries_total", "outcome" => "dead_lettered").increment(1);
        Ok(())
    }

    /// Repeats `write` until Kafka acknowledges it; only shutdown stops it.
    async fn durably<F, Fut>(&self, write: F) -> Result<(), Abandoned>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), rdkafka::error::KafkaError>>,
    {
        let mut failures = 0;
        loop {
            let outcome = tokio::select! {
                () = self.shutdown.cancelled() => return Err(Abandoned),
                outcome = write() => outcome,
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "Writing an outcome to Kafka failed; retrying.");
                    tokio::select! {
                        () = self.shutdown.cancelled() => return Err(Abandoned),
                        () = tokio::time::sleep(OUTCOME_RETRY.delay(failures, None)) => {}
                    }
                }
            }
        }
    }
}

fn attempt_record(attempt: u32, result: &Attempt, kind: ErrorKind, message: &str) -> AttemptRecord {
    AttemptRecord {
        attempt,
        at: OffsetDateTime::now_utc(),
        http_status: result.http_status,
        error_kind: kind,
        error_message: message.to_owned(),
        latency_ms: millis(result.latency),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
