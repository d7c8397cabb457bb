//! What the projector reports about itself: each type writes its log line
//! and moves its metrics in one `emit`, so logs and metrics agree.

use std::fmt::Display;
use std::time::Duration;

use orch_telemetry::InternalEvent;

use super::batch::Single;

/// A batch is committed to Postgres.
#[derive(Debug)]
pub(crate) struct BatchProjected<'a> {
    pub(crate) records: usize,
    /// The Kafka timestamp (ms) of each of its records.
    pub(crate) stamps: &'a [i64],
}

impl InternalEvent for BatchProjected<'_> {
    fn emit(self) {
        tracing::debug!(records = self.records, "Batch projected.");
        metrics::histogram!("orch_projection_batch_records").record(self.records as f64);
        // From the record's creation to its commit: how long a status took
        // to become visible, the read model's share of end-to-end latency.
        let now_ms = super::lag::now_ms();
        let delay = metrics::histogram!("orch_projection_delay_seconds");
        for ms in self.stamps {
            delay.record(now_ms.saturating_sub(*ms).max(0) as f64 / 1_000.0);
        }
    }
}

/// Writing a batch failed; it is retried after `retry_in`.
#[derive(Debug)]
pub(crate) struct WriteFailed<'a, E> {
    pub(crate) error: &'a E,
    pub(crate) retry_in: Duration,
}

impl<E: Display> InternalEvent for WriteFailed<'_, E> {
    fn emit(self) {
        tracing::warn!(error = %self.error, retry_in_ms = self.retry_in.as_millis() as u64,
            "Projection write failed; retrying.");
        metrics::counter!("orch_projection_write_failures_total").increment(1);
    }
}

/// A record that does not decode goes to the quarantine table with its
/// batch. Kafka keeps it too, so a fixed projector can rebuild from it.
#[derive(Debug)]
pub(crate) struct RecordSkipped<'a, E> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) error: &'a E,
}

impl<E: Display> InternalEvent for RecordSkipped<'_, E> {
    fn emit(self) {
        tracing::error!(topic = self.topic, partition = self.partition, offset = self.offset,
            error = %self.error, "Quarantining an unreadable record.");
        metrics::counter!("orch_projection_records_quarantined_total", "reason" => "unreadable")
            .increment(1);
    }
}

/// Postgres refused a record for what it holds: it is in the quarantine
/// table (`kept`), or, if even that table refused it, only in this log line
/// and in Kafka at its offset.
#[derive(Debug)]
pub(crate) struct RecordQuarantined<'a> {
    pub(crate) single: &'a Single,
    pub(crate) error: &'a sqlx::Error,
    pub(crate) kept: bool,
}

impl InternalEvent for RecordQuarantined<'_> {
    fn emit(self) {
        let (origin, event_id) = match self.single {
            Single::Raw(origin, record) => (origin, Some(record.id.as_str())),
            Single::Status(origin, record) => (origin, Some(record.id.as_str())),
            Single::Unreadable(unreadable) => (&unreadable.origin, None),
        };
        // The id may be the very thing refused (too long to index).
        let event_id = event_id.map(|id| id.chars().take(200).collect::<String>());
        tracing::error!(topic = %origin.topic, partition = origin.partition, offset = origin.offset,
            event_id, kept = self.kept, error = %self.error,
            "Postgres refused a record for what it holds; quarantined it and projected the rest of its batch.");
        metrics::counter!("orch_projection_records_quarantined_total", "reason" => "refused")
            .increment(1);
    }
}
