//! What the command service reports about itself: each type writes its log
//! line and moves its counter in one `emit`, so logs and metrics agree.
//! The request span supplies `event_id` and the trace ids to each line.

use std::fmt::Display;

use orch_telemetry::InternalEvent;

use crate::durable::Durable;

/// An event was made durable and answered 202.
#[derive(Debug)]
pub(crate) struct EventAccepted {
    pub(crate) durable_in: Durable,
}

impl InternalEvent for EventAccepted {
    fn emit(self) {
        let durable_in = match self.durable_in {
            Durable::Kafka => "kafka",
            Durable::Spool => "spool",
        };
        tracing::info!(durable_in, "Event accepted.");
        metrics::counter!("orch_events_accepted_total", "durable_in" => durable_in).increment(1);
    }
}

/// An event was answered 503: it could not be made durable. The source was
/// told, so nothing is lost, but it is the one failure the source sees.
#[derive(Debug)]
pub(crate) enum EventNotDurable<'a> {
    /// Neither Kafka nor the spool took it within the request deadline.
    Deadline,
    /// Neither Kafka nor the spool would take it.
    Failed(&'a (dyn std::error::Error + 'static)),
}

impl InternalEvent for EventNotDurable<'_> {
    fn emit(self) {
        let reason = match self {
            Self::Deadline => {
                tracing::error!(
                    "Event not accepted: it was not durable within the request deadline."
                );
                "deadline"
            }
            Self::Failed(error) => {
                tracing::error!(error = %orch_telemetry::error_chain(error), "Event not accepted: it could not be made durable.");
                "not_durable"
            }
        };
        metrics::counter!("orch_events_rejected_total", "reason" => reason).increment(1);
    }
}

/// Kafka refused a record the producer had queued; it goes to the spool.
#[derive(Debug)]
pub(crate) struct ProduceFailed<'a, E> {
    pub(crate) error: &'a E,
}

impl<E: Display> InternalEvent for ProduceFailed<'_, E> {
    fn emit(self) {
        tracing::warn!(error = %self.error, "Kafka refused the record; spooling it.");
        metrics::counter!("orch_produce_errors_total").increment(1);
    }
}

/// Reading the spool failed; forwarding waits and tries again.
#[derive(Debug)]
pub(crate) struct SpoolReadFailed<'a, E> {
    pub(crate) error: &'a E,
}

impl<E: Display> InternalEvent for SpoolReadFailed<'_, E> {
    fn emit(self) {
        tracing::warn!(error = %self.error, "Reading the spool failed; retrying.");
        metrics::counter!("orch_spool_read_failures_total", "reason" => "io").increment(1);
    }
}

/// Something in the spool could not be forwarded and was put in its
/// quarantine; the forwarder went on past it. An operator must look.
#[derive(Debug)]
pub(crate) struct SpoolQuarantined<'a> {
    pub(crate) item: &'a crate::spool::QuarantineItem,
}

impl InternalEvent for SpoolQuarantined<'_> {
    fn emit(self) {
        let item = self.item;
        tracing::error!(kind = item.kind.as_str(), file = %item.file, seq = ?item.seq, bytes = item.bytes,
            reason = %item.reason, "Spool content quarantined; see docs/runbooks/spool.md.");
        metrics::counter!("orch_spool_quarantined_total", "kind" => item.kind.as_str())
            .increment(1);
    }
}

/// Spooled records reached Kafka and left the spool.
#[derive(Debug)]
pub(crate) struct SpoolForwarded {
    pub(crate) records: usize,
}

impl InternalEvent for SpoolForwarded {
    fn emit(self) {
        tracing::debug!(
            records = self.records,
            "Spooled records forwarded to Kafka."
        );
        metrics::counter!("orch_spool_forwarded_total").increment(self.records as u64);
    }
}
