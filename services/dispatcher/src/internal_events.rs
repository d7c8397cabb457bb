//! What the dispatcher reports about itself: each type writes its log line
//! and moves its counters in one `emit`, so logs and metrics agree. The
//! `deliver_event` span supplies `event_id`, the correlation id and the trace
//! ids to each line.

use std::fmt::Display;

use orch_contracts::ErrorKind;
use orch_telemetry::InternalEvent;

/// The target took the event and its `delivered` status is in Kafka.
#[derive(Debug)]
pub(crate) struct EventDelivered {
    pub(crate) attempt: u32,
}

impl InternalEvent for EventDelivered {
    fn emit(self) {
        tracing::info!(attempt = self.attempt, "Event delivered.");
        metrics::counter!("deliveries_total", "outcome" => "delivered").increment(1);
    }
}

/// An attempt failed in a way worth retrying (a 429 included).
#[derive(Debug)]
pub(crate) struct AttemptFailed<'a> {
    pub(crate) attempt: u32,
    pub(crate) kind: ErrorKind,
    pub(crate) message: &'a str,
}

impl InternalEvent for AttemptFailed<'_> {
    fn emit(self) {
        tracing::warn!(
            attempt = self.attempt,
            error_kind = self.kind.as_str(),
            message = self.message,
            "Delivery attempt failed."
        );
        metrics::counter!("delivery_retries_total", "kind" => self.kind.as_str()).increment(1);
        if self.kind == ErrorKind::RateLimited {
            metrics::counter!("delivery_rate_limited_total").increment(1);
        }
    }
}

/// The event is in the DLQ and its `dead_lettered` status is in Kafka.
#[derive(Debug)]
pub(crate) struct EventDeadLettered<'a> {
    pub(crate) kind: ErrorKind,
    pub(crate) message: &'a str,
}

impl InternalEvent for EventDeadLettered<'_> {
    fn emit(self) {
        tracing::warn!(
            error_kind = self.kind.as_str(),
            message = self.message,
            "Event dead-lettered."
        );
        metrics::counter!("deliveries_total", "outcome" => "dead_lettered").increment(1);
    }
}

/// A raw record that is not a readable event, copied to the DLQ unchanged.
#[derive(Debug)]
pub(crate) struct UnreadableRecord<E> {
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) error: E,
}

impl<E: Display> InternalEvent for UnreadableRecord<E> {
    fn emit(self) {
        tracing::error!(partition = self.partition, offset = self.offset, error = %self.error,
            "Raw record is unreadable; copying it to the DLQ.");
        metrics::counter!("deliveries_total", "outcome" => "unreadable").increment(1);
    }
}
