//! Whether delivery is paused, and since when it runs, from the control
//! topic: the same records the dispatchers obey.

use parking_lot::Mutex;
use std::time::Duration;

use orch_contracts::{ControlName, ControlRecord, ControlRecordError, DeliveryControl};
use orch_kafka::ControlSink;
use time::OffsetDateTime;

/// The pause in force and when delivery last resumed.
#[derive(Debug, Default)]
pub(crate) struct PauseClock {
    state: Mutex<PauseState>,
}

#[derive(Debug, Default, Clone, Copy)]
struct PauseState {
    paused: bool,
    /// When delivery last went from paused to running; `None` if the topic
    /// never held a pause.
    resumed_at: Option<OffsetDateTime>,
}

impl PauseClock {
    fn set(&self, paused: bool, at: OffsetDateTime) {
        // A record's time comes from another clock (or a hand-made
        // record): a resume dated in the future would hold sweeps back
        // until then, so none is later than now.
        let at = at.min(OffsetDateTime::now_utc());
        let mut state = self.state.lock();
        if state.paused && !paused {
            state.resumed_at = Some(at);
        }
        if paused {
            // A pause that is cleared later resumes at that later time.
            state.resumed_at = None;
        }
        state.paused = paused;
    }

    /// Events accepted before the returned time and not final are overdue:
    /// the limit counts from acceptance or from the last resume, whichever
    /// is later, and not at all while paused.
    pub(crate) fn cutoff(&self, now: OffsetDateTime, after: Duration) -> Option<OffsetDateTime> {
        let state = *self.state.lock();
        if state.paused {
            return None;
        }
        let cutoff = now.checked_sub(time::Duration::try_from(after).ok()?)?;
        match state.resumed_at {
            Some(resumed) if resumed >= cutoff => None,
            _ => Some(cutoff),
        }
    }
}

/// Hands the control topic's pause records to a [`PauseClock`].
pub(crate) struct PauseSink(pub(crate) std::sync::Arc<PauseClock>);

impl ControlSink for PauseSink {
    fn apply(&self, record: &ControlRecord) {
        if let DeliveryControl::Pause { paused } = record.control {
            self.0.set(paused, record.at);
        }
    }

    fn clear(&self, name: ControlName, at: Option<OffsetDateTime>) {
        if name == ControlName::Pause {
            self.0
                .set(false, at.unwrap_or_else(OffsetDateTime::now_utc));
        }
    }

    fn refused(&self, offset: i64, error: &ControlRecordError) {
        // The dispatchers count refused controls; here it is only noted.
        tracing::debug!(offset, error = %orch_telemetry::error_chain(error), "A control record the sweeper cannot read; ignored.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const LIMIT: Duration = Duration::from_secs(600);

    #[test]
    fn a_resume_dated_in_the_future_counts_from_now() {
        let clock = PauseClock::default();
        clock.set(true, datetime!(2026-12-03 11:00 UTC));
        clock.set(false, datetime!(9999-01-01 00:00 UTC));
        let now = OffsetDateTime::now_utc();
        let later = now + time::Duration::seconds(LIMIT.as_secs() as i64 + 60);
        assert!(
            clock.cutoff(later, LIMIT).is_some(),
            "sweeps resume one limit after now, not in the year 9999"
        );
    }

    #[test]
    fn paused_is_not_overdue_and_the_limit_restarts_at_the_resume() {
        let clock = PauseClock::default();
        let now = datetime!(2026-12-03 12:00 UTC);
        assert_eq!(
            clock.cutoff(now, LIMIT),
            Some(datetime!(2026-12-03 11:50 UTC))
        );

        clock.set(true, datetime!(2026-12-03 11:00 UTC));
        assert_eq!(clock.cutoff(now, LIMIT), None, "paused");

        clock.set(false, datetime!(2026-12-03 11:55 UTC));
        assert_eq!(
            clock.cutoff(now, LIMIT),
            None,
            "resumed 5 of 10 minutes ago"
        );
        let later = datetime!(2026-12-03 12:06 UTC);
        assert_eq!(
            clock.cutoff(later, LIMIT),
            Some(datetime!(2026-12-03 11:56 UTC))
        );

        // A second "running" record does not move the resume time.
        clock.set(false, datetime!(2026-12-03 12:05 UTC));
        assert_eq!(
            clock.cutoff(later, LIMIT),
            Some(datetime!(2026-12-03 11:56 UTC))
        );
    }
}
