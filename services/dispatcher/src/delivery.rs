use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use orch_contracts::{
    AttemptRecord, DeadLetterRecord, ErrorKind, HEADER_CORRELATION_ID, RawEventRecord, Status,
    StatusRecord,
};
use orch_kafka::RecordContext;
use orch_telemetry::InternalEvent as _;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::backoff::Backoff;
use crate::classify::Verdict;
use crate::enrich::{EnrichedEvent, Enricher};
use crate::graphql::{Attempt, TargetClient};
use crate::internal_events::{AttemptFailed, EventDeadLettered, EventDelivered, UnreadableRecord};
use crate::outcomes::OutcomeWriter;
use crate::pacer::Pacer;

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
    pub(crate) pacer: Arc<Pacer>,
    pub(crate) enricher: Enricher,
    pub(crate) outcomes: OutcomeWriter,
    pub(crate) backoff: Backoff,
    pub(crate) max_attempts: u32,
    /// Retrying stops once this much time has passed since the first attempt.
    pub(crate) max_elapsed: Duration,
}

impl Deliverer {
    /// Delivers, retries or dead-letters `message`; `Ok` once its outcome is in
    /// Kafka, so the caller may store its offset.
    /// `cancel` fires when the partition is revoked or the shutdown grace
    /// period ends: the event is then abandoned, uncommitted.
    pub(crate) async fn process(
        &self,
        message: &OwnedMessage,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        let correlation_id = message
            .headers()
            .and_then(|headers| orch_kafka::header_str(headers, HEADER_CORRELATION_ID));
        let span = orch_kafka::consumer_span!("deliver_event", message);
        self.deliver(message, correlation_id, cancel)
            .instrument(span)
            .await
    }

    async fn deliver(
        &self,
        message: &OwnedMessage,
        correlation_id: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        let payload = message.payload().unwrap_or_default();
        let event: RawEventRecord = match serde_json::from_slice(payload) {
            Ok(event) => event,
            Err(error) => {
                UnreadableRecord {
                    partition: message.partition(),
                    offset: message.offset(),
                    error,
                }
                .emit();
                let headers = message.headers().cloned().unwrap_or_default();
                let key = message.key().unwrap_or_default();
                return self
                    .durably(cancel, || {
                        self.outcomes.unreadable(key, payload, headers.clone())
                    })
                    .await;
            }
        };
        let enriched = self.enricher.enrich(&event);
        let mut history = Vec::new();
        let mut attempt = 0;
        // Rate-limit answers say "later", not "never": they do not use up the
        // attempts (max_elapsed still bounds them).
        let mut failures = 0;
        let first_attempt = tokio::time::Instant::now();
        loop {
            attempt += 1;
            tokio::select! {
                () = cancel.cancelled() => return Err(Abandoned),
                () = self.pacer.acquire() => {}
            }
            let attempt_span = tracing::info_span!(
                "graphql_create_item",
                otel.kind = "client",
                attempt,
                http.response.status_code = Empty,
            );
            let context = RecordContext {
                trace: orch_telemetry::trace_headers(&attempt_span),
                correlation_id: correlation_id.map(str::to_owned),
            };
            let result = tokio::select! {
                () = cancel.cancelled() => return Err(Abandoned),
                result = self.target.create_item(&enriched, &context).instrument(attempt_span.clone()) => result,
            };
            if let Some(status) = result.http_status {
                attempt_span.record("http.response.status_code", status);
            }
            drop(attempt_span);
            metrics::histogram!("delivery_attempt_duration_seconds")
                .record(result.latency.as_secs_f64());
            match result.verdict.clone() {
                Verdict::Delivered => {
                    self.pacer.on_success();
                    return self
                        .delivered(&event, &enriched, attempt, &result, correlation_id, cancel)
                        .await;
                }
                Verdict::Poison { kind, message } => {
                    history.push(attempt_record(attempt, &result, kind, &message));
                    return self
                        .dead_letter(
                            event,
                            &enriched,
                            (kind, message),
                            history,
                            correlation_id,
                            cancel,
                        )
                        .await;
                }
                Verdict::Retry {
                    kind,
                    retry_after,
                    message,
                } => {
                    history.push(attempt_record(attempt, &result, kind, &message));
                    AttemptFailed {
                        attempt,
                        kind,
                        message: &message,
                    }
                    .emit();
                    if kind == ErrorKind::RateLimited {
                        self.pacer.on_rate_limited(retry_after);
                    } else {
                        failures += 1;
                    }
                    let out_of_time = first_attempt.elapsed() >= self.max_elapsed;
                    if failures >= self.max_attempts || out_of_time {
                        let message = format!(
                            "gave up after {attempt} attempts in {:?}; last: {message}",
                            first_attempt.elapsed()
                        );
                        return self
                            .dead_letter(
                                event,
                                &enriched,
                                (ErrorKind::RetriesExhausted, message),
                                history,
                                correlation_id,
                                cancel,
                            )
                            .await;
                    }
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
                    self.durably(cancel, || self.outcomes.status(&record, correlation_id))
                        .await?;
                    let delay = self.backoff.delay(attempt, retry_after);
                    tokio::select! {
                        () = cancel.cancelled() => return Err(Abandoned),
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
        correlation_id: Option<&str>,
        cancel: &CancellationToken,
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
        self.durably(cancel, || self.outcomes.status(&record, correlation_id))
            .await?;
        EventDelivered { attempt }.emit();
        Ok(())
    }

    async fn dead_letter(
        &self,
        event: RawEventRecord,
        enriched: &EnrichedEvent,
        (kind, message): (ErrorKind, String),
        history: Vec<AttemptRecord>,
        correlation_id: Option<&str>,
        cancel: &CancellationToken,
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
        let letter = DeadLetterRecord::new(event, enriched.brand.clone(), kind, message, history);
        // The dead letter goes first: a `dead_lettered` status must never point
        // at a DLQ record that does not exist.
        self.durably(cancel, || {
            self.outcomes.dead_letter(&letter, correlation_id)
        })
        .await?;
        self.durably(cancel, || self.outcomes.status(&status, correlation_id))
            .await?;
        EventDeadLettered {
            kind,
            message: &letter.message,
        }
        .emit();
        Ok(())
    }

    /// Repeats `write` until Kafka acknowledges it; only shutdown stops it.
    async fn durably<F, Fut>(&self, cancel: &CancellationToken, write: F) -> Result<(), Abandoned>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), rdkafka::error::KafkaError>>,
    {
        let mut failures = 0;
        loop {
            let outcome = tokio::select! {
                () = cancel.cancelled() => return Err(Abandoned),
                outcome = write() => outcome,
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "Writing an outcome to Kafka failed; retrying.");
                    tokio::select! {
                        () = cancel.cancelled() => return Err(Abandoned),
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
