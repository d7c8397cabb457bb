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
    /// From the command service's acceptance to now, for an event in its
    /// first round (generation 0); a redriven event's would measure the
    /// outage it waited out, not the pipeline.
    pub(crate) since_accepted: Option<std::time::Duration>,
}

impl InternalEvent for EventDelivered {
    fn emit(self) {
        tracing::info!(attempt = self.attempt, "Event delivered.");
        metrics::counter!("orch_deliveries_total", "outcome" => "delivered").increment(1);
        if let Some(latency) = self.since_accepted {
            metrics::histogram!("orch_delivery_latency_seconds").record(latency.as_secs_f64());
        }
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
        metrics::counter!("orch_delivery_retries_total", "kind" => self.kind.as_str()).increment(1);
        if self.kind == ErrorKind::RateLimited {
            metrics::counter!("orch_delivery_rate_limited_total").increment(1);
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
        metrics::counter!("orch_deliveries_total", "outcome" => "dead_lettered").increment(1);
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
        metrics::counter!("orch_deliveries_total", "outcome" => "unreadable").increment(1);
    }
}

/// The circuit breaker opened: delivery stops until a probe gets through.
#[derive(Debug)]
pub(crate) struct BreakerOpened<'a> {
    pub(crate) trip: &'a crate::breaker::Trip,
}

impl InternalEvent for BreakerOpened<'_> {
    fn emit(self) {
        let fault = self.trip.fault;
        // An operator must act on a credential or address fault; a run of
        // failures is the target's own outage, which may pass by itself.
        if fault == crate::classify::Fault::FailureRun {
            tracing::warn!(fault = fault.as_str(), message = %self.trip.message, check = fault.check(),
                "Target failing for every event; delivery paused until a probe succeeds.");
        } else {
            tracing::error!(fault = fault.as_str(), message = %self.trip.message, check = fault.check(),
                "Target refuses every event; delivery paused until a probe succeeds.");
        }
        metrics::counter!("orch_dispatcher_breaker_opened_total", "fault" => fault.as_str())
            .increment(1);
    }
}

/// A probe got through: the breaker closed and delivery resumes at the paced rate.
#[derive(Debug)]
pub(crate) struct BreakerClosed {
    pub(crate) open_for: std::time::Duration,
}

impl InternalEvent for BreakerClosed {
    fn emit(self) {
        tracing::info!(open_for = ?self.open_for, "Target answered a probe; delivery resumes.");
    }
}

/// A probe failed; the next one waits longer.
#[derive(Debug)]
pub(crate) struct ProbeFailed {
    pub(crate) next_in: std::time::Duration,
}

impl InternalEvent for ProbeFailed {
    fn emit(self) {
        tracing::info!(next_in = ?self.next_in, "Probe failed; the breaker stays open.");
        metrics::counter!("orch_dispatcher_breaker_probes_failed_total").increment(1);
    }
}

/// A delivery task panicked; the event is tried again (and dead-lettered
/// with reason `internal_error` if it keeps panicking).
#[derive(Debug)]
pub(crate) struct TaskPanicked<'a> {
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) try_number: u32,
    pub(crate) cause: &'a str,
}

impl InternalEvent for TaskPanicked<'_> {
    fn emit(self) {
        tracing::error!(
            partition = self.partition,
            offset = self.offset,
            try_number = self.try_number,
            cause = self.cause,
            "Delivery task panicked; trying the event again."
        );
        metrics::counter!("orch_dispatcher_task_panics_total").increment(1);
    }
}

/// A delivery control from `events.control` took effect.
#[derive(Debug)]
pub(crate) struct ControlApplied<'a> {
    pub(crate) record: &'a orch_contracts::ControlRecord,
}

impl InternalEvent for ControlApplied<'_> {
    fn emit(self) {
        let record = self.record;
        match record.control {
            orch_contracts::DeliveryControl::Pause { paused: true } => tracing::warn!(
                by = %record.by, reason = %record.reason, set_at = %record.at,
                "Delivery paused by control."
            ),
            orch_contracts::DeliveryControl::Pause { paused: false } => tracing::info!(
                by = %record.by, reason = %record.reason, set_at = %record.at,
                "Delivery resumed by control."
            ),
            orch_contracts::DeliveryControl::Rate { events_per_second } => tracing::info!(
                by = %record.by, reason = %record.reason, set_at = %record.at,
                events_per_second = ?events_per_second,
                "Group rate set by control (none: the configured rate)."
            ),
        }
        metrics::counter!("orch_dispatcher_controls_applied_total", "control" => record.control.name().as_str())
            .increment(1);
    }
}

/// A record on `events.control` that is not a valid control; ignored.
#[derive(Debug)]
pub(crate) struct ControlRefused<'a> {
    pub(crate) offset: i64,
    pub(crate) error: &'a orch_contracts::ControlRecordError,
}

impl InternalEvent for ControlRefused<'_> {
    fn emit(self) {
        tracing::error!(offset = self.offset, error = %self.error,
            "A record on the control topic is not a valid control; ignored.");
        metrics::counter!("orch_dispatcher_controls_refused_total").increment(1);
    }
}
