//! One event's way from a raw record to a durable outcome: wait at the gate
//! and the pacer, attempt, ask `next_step` what follows, record it.

use std::sync::Arc;
use std::time::Duration;

use orch_contracts::{
    AttemptRecord, DeadLetterRecord, ErrorKind, HEADER_CORRELATION_ID, RawEventRecord, Status,
    StatusRecord,
};
use orch_telemetry::EventContext;
use orch_telemetry::InternalEvent as _;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::breaker::Signal;
use crate::classify::Verdict;
use crate::durably::{Abandoned, durably};
use crate::enrich::{EnrichedEvent, Enricher};
use crate::gate::{Gate, Permit};
use crate::graphql::{Attempt, TargetClient};
use crate::internal_events::{AttemptFailed, EventDeadLettered, EventDelivered, UnreadableRecord};
use crate::outcomes::OutcomeWriter;
use crate::pacer::{Pacer, Sending};
use crate::step::{Budget, Progress, Step, next_step};
use orch_kafka::Backoff;

/// A dead letter keeps at most this many attempts (the newest): a long
/// rate-limited spell must not grow a record past what Kafka takes.
const MAX_HISTORY: usize = 100;

/// Takes one raw record all the way to a durable outcome.
pub(crate) struct Deliverer {
    pub(crate) target: TargetClient,
    pub(crate) gate: Arc<Gate>,
    pub(crate) pacer: Arc<Pacer>,
    pub(crate) enricher: Enricher,
    pub(crate) outcomes: OutcomeWriter,
    pub(crate) backoff: Backoff,
    pub(crate) budget: Budget,
    /// Test hook: events whose id starts with this panic their task.
    pub(crate) panic_id_prefix: Option<String>,
}

/// What the target's answer adds to a status record.
#[derive(Debug, Clone, Copy, Default)]
struct Answer {
    http_status: Option<u16>,
    latency_ms: Option<u64>,
}

impl From<&Attempt> for Answer {
    fn from(attempt: &Attempt) -> Self {
        Self {
            http_status: attempt.http_status,
            latency_ms: Some(millis(attempt.latency)),
        }
    }
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
        let correlation_id = correlation_id(message);
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
        let Some(event) = self.read(message, cancel).await? else {
            return Ok(());
        };
        if let Some(prefix) = &self.panic_id_prefix
            && event.id.starts_with(prefix.as_str())
        {
            panic!(
                "test hook DISPATCHER_TEST_PANIC_ID_PREFIX matched event {:?}",
                event.id
            );
        }
        let enriched = self.enricher.enrich(&event);
        let mut history: Vec<AttemptRecord> = Vec::new();
        let (mut attempt, mut failures) = (0, 0);
        let first_attempt = tokio::time::Instant::now();
        let held_before = self.gate.held_time();
        loop {
            attempt += 1;
            let (permit, sending) = self.turn(cancel).await?;
            let result = tokio::select! {
                () = cancel.cancelled() => return Err(Abandoned),
                result = self.attempt(&enriched, attempt, correlation_id) => result,
            };
            drop(sending); // answered: the pacer's ledger dates its arrival
            self.learn(permit, &result.verdict);
            let held = self.gate.held_time().saturating_sub(held_before);
            let progress = Progress {
                attempt,
                failures,
                elapsed: first_attempt.elapsed().saturating_sub(held),
                breaker_open: self.gate.breaker_open(),
            };
            if let Some((kind, message)) = result.verdict.failure() {
                if history.len() == MAX_HISTORY {
                    history.remove(0);
                }
                history.push(attempt_record(attempt, &result, kind, message));
            }
            let answer = Answer::from(&result);
            let step = next_step(&result.verdict, progress, self.budget);
            match step {
                Step::Delivered => {
                    let record =
                        self.status_record(&event, Status::Delivered, attempt, answer, None);
                    self.record(&record, correlation_id, cancel).await?;
                    let since_accepted = (event.generation == 0)
                        .then(|| time::OffsetDateTime::now_utc() - event.received_at)
                        .and_then(|elapsed| std::time::Duration::try_from(elapsed).ok());
                    EventDelivered {
                        attempt,
                        since_accepted,
                    }
                    .emit();
                    return Ok(());
                }
                Step::DeadLetter { kind, message } => {
                    return self
                        .dead_letter(
                            event,
                            (kind, message),
                            history,
                            answer,
                            correlation_id,
                            cancel,
                        )
                        .await;
                }
                Step::Retry { .. } | Step::Hold => {
                    let (kind, message) = result
                        .verdict
                        .failure()
                        .map(|(kind, message)| (kind, message.to_owned()))
                        .unwrap_or((ErrorKind::InternalError, String::new()));
                    AttemptFailed {
                        attempt,
                        kind,
                        message: &message,
                    }
                    .emit();
                    let record = self.status_record(
                        &event,
                        Status::Retrying,
                        attempt,
                        answer,
                        Some((kind, message)),
                    );
                    self.record(&record, correlation_id, cancel).await?;
                }
            }
            if let Step::Retry {
                failures: counted,
                backoff_attempt,
                at_least,
            } = step
            {
                failures = counted;
                let delay = self.backoff.delay(backoff_attempt, at_least);
                tokio::select! {
                    () = cancel.cancelled() => return Err(Abandoned),
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }

    /// Parses the raw record; an unreadable one is copied to the DLQ as it
    /// is (`Ok(None)`), so nothing is dropped.
    async fn read(
        &self,
        message: &OwnedMessage,
        cancel: &CancellationToken,
    ) -> Result<Option<RawEventRecord>, Abandoned> {
        let payload = message.payload().unwrap_or_default();
        match serde_json::from_slice(payload) {
            Ok(event) => Ok(Some(event)),
            Err(error) => {
                UnreadableRecord {
                    partition: message.partition(),
                    offset: message.offset(),
                    error,
                }
                .emit();
                self.copy_unread(message, cancel).await?;
                Ok(None)
            }
        }
    }

    async fn copy_unread(
        &self,
        message: &OwnedMessage,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        let payload = message.payload().unwrap_or_default();
        let headers = message.headers().cloned().unwrap_or_default();
        let key = message.key().unwrap_or_default();
        durably(cancel, || {
            self.outcomes.unreadable(key, payload, headers.clone())
        })
        .await
    }

    /// Waits for leave to send: the gate (pause, breaker) and then the
    /// pacer. If the gate shut while this task waited for its pacing slot,
    /// the slot is dropped and the task waits at the gate again.
    async fn turn(&self, cancel: &CancellationToken) -> Result<(Permit<'_>, Sending), Abandoned> {
        loop {
            let permit = tokio::select! {
                () = cancel.cancelled() => return Err(Abandoned),
                permit = self.gate.admit() => permit,
            };
            let sending = tokio::select! {
                () = cancel.cancelled() => return Err(Abandoned),
                sending = self.pacer.acquire() => sending,
            };
            if self.gate.still_open(&permit) {
                return Ok((permit, sending));
            }
        }
    }

    /// One `createItem`, under its own span.
    async fn attempt(
        &self,
        enriched: &EnrichedEvent,
        attempt: u32,
        correlation_id: Option<&str>,
    ) -> Attempt {
        let span = tracing::info_span!(
            "graphql_create_item",
            otel.kind = "client",
            attempt,
            http.response.status_code = Empty,
        );
        let context = EventContext {
            trace: orch_telemetry::trace_headers(&span),
            correlation_id: correlation_id.map(str::to_owned),
        };
        let result = self
            .target
            .create_item(enriched, &context)
            .instrument(span.clone())
            .await;
        if let Some(status) = result.http_status {
            span.record("http.response.status_code", status);
        }
        metrics::histogram!("orch_delivery_attempt_duration_seconds")
            .record(result.latency.as_secs_f64());
        result
    }

    /// Tells the breaker and the pacer what the target said.
    fn learn(&self, permit: Permit<'_>, verdict: &Verdict) {
        let signal = match verdict {
            Verdict::Delivered => {
                self.pacer.on_success();
                Signal::Delivered
            }
            Verdict::Poison { .. } => Signal::Answered,
            Verdict::Retry {
                kind: ErrorKind::RateLimited,
                retry_after,
                ..
            } => {
                self.pacer.on_rate_limited(*retry_after);
                Signal::Answered
            }
            Verdict::Retry { message, .. } => Signal::Failed(message.clone()),
            Verdict::TargetBroken { fault, message, .. } => Signal::Broken(*fault, message.clone()),
        };
        permit.report(signal);
    }

    /// Dead-letters an event whose delivery task kept panicking (or, when
    /// even its record cannot be read, copies the record as it is).
    pub(crate) async fn give_up(
        &self,
        message: &OwnedMessage,
        cause: String,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        let payload = message.payload().unwrap_or_default();
        let Ok(event) = serde_json::from_slice::<RawEventRecord>(payload) else {
            return self.copy_unread(message, cancel).await;
        };
        let correlation_id = correlation_id(message);
        self.dead_letter(
            event,
            (ErrorKind::InternalError, cause),
            Vec::new(),
            Answer::default(),
            correlation_id,
            cancel,
        )
        .await
    }

    async fn dead_letter(
        &self,
        event: RawEventRecord,
        (kind, message): (ErrorKind, String),
        history: Vec<AttemptRecord>,
        answer: Answer,
        correlation_id: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        let attempt = history.last().map_or(0, |last| last.attempt);
        let status = self.status_record(
            &event,
            Status::DeadLettered,
            attempt,
            answer,
            Some((kind, message.clone())),
        );
        let letter =
            DeadLetterRecord::new(event, self.enricher.brand().clone(), kind, message, history);
        // The dead letter goes first: a `dead_lettered` status must never point
        // at a DLQ record that does not exist.
        durably(cancel, || {
            self.outcomes.dead_letter(&letter, correlation_id)
        })
        .await?;
        self.record(&status, correlation_id, cancel).await?;
        EventDeadLettered {
            kind,
            message: &letter.message,
        }
        .emit();
        Ok(())
    }

    /// Every status record is built here.
    fn status_record(
        &self,
        event: &RawEventRecord,
        status: Status,
        attempt: u32,
        answer: Answer,
        error: Option<(ErrorKind, String)>,
    ) -> StatusRecord {
        let (error_kind, error_message) = error.unzip();
        StatusRecord {
            http_status: answer.http_status,
            error_kind,
            error_message,
            latency_ms: answer.latency_ms,
            brand: Some(self.enricher.brand().clone()),
            ..StatusRecord::new(
                &event.id,
                status,
                attempt,
                &event.trace_id,
                event.generation,
            )
        }
    }

    async fn record(
        &self,
        record: &StatusRecord,
        correlation_id: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        durably(cancel, || self.outcomes.status(record, correlation_id)).await
    }
}

fn correlation_id(message: &OwnedMessage) -> Option<&str> {
    message
        .headers()
        .and_then(|headers| orch_kafka::header_str(headers, HEADER_CORRELATION_ID))
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
