//! What the sweeper reports about itself, as log lines and metrics at once.

use orch_telemetry::InternalEvent;

use super::sweep::OverdueCount;

/// This replica counted the overdue events.
#[derive(Debug)]
pub(crate) struct OverdueCounted(pub(crate) OverdueCount);

impl InternalEvent for OverdueCounted {
    fn emit(self) {
        let OverdueCount {
            overdue,
            overdue_failed,
            oldest_age,
        } = self.0;
        metrics::gauge!("orch_events_overdue").set(overdue as f64);
        metrics::gauge!("orch_events_overdue_failed").set(overdue_failed as f64);
        metrics::gauge!("orch_events_overdue_oldest_age_seconds").set(oldest_age.as_secs_f64());
    }
}

/// A sweep under the lock finished.
#[derive(Debug)]
pub(crate) struct Swept<'a> {
    pub(crate) found: usize,
    pub(crate) published: usize,
    pub(crate) overdue_failed: u64,
    pub(crate) failure: Option<&'a str>,
}

impl InternalEvent for Swept<'_> {
    fn emit(self) {
        metrics::counter!("orch_events_swept_total").increment(self.published as u64);
        metrics::counter!("orch_events_overdue_failed_total").increment(self.overdue_failed);
        if let Some(failure) = self.failure {
            tracing::warn!(
                found = self.found,
                published = self.published,
                failure,
                "Sweep published part of the overdue events; the rest go next sweep."
            );
        } else if self.published > 0 || self.overdue_failed > 0 {
            tracing::warn!(
                published = self.published,
                overdue_failed = self.overdue_failed,
                "Overdue events swept: published again once; those overdue again are given up on."
            );
        }
    }
}

/// A sweep could not read or write the read model.
#[derive(Debug)]
pub(crate) struct SweepFailed<'a> {
    pub(crate) error: &'a sqlx::Error,
}

impl InternalEvent for SweepFailed<'_> {
    fn emit(self) {
        tracing::error!(error = %orch_telemetry::error_chain(self.error), "Overdue sweep failed; trying again next interval.");
        metrics::counter!("orch_sweep_failures_total").increment(1);
    }
}
