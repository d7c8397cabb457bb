//! What to do after one attempt: the whole retry policy as one pure function.

use std::time::Duration;

use orch_contracts::ErrorKind;

use crate::classify::Verdict;

/// An event's retry budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Failed attempts before giving up (rate-limit answers and attempts
    /// made while the target was broken do not count).
    pub(crate) max_attempts: u32,
    /// Time, not counting time the gate was shut, before giving up.
    pub(crate) max_elapsed: Duration,
}

/// Where an event stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Attempts made, this one included.
    pub(crate) attempt: u32,
    /// Failures counted against `max_attempts` before this attempt.
    pub(crate) failures: u32,
    /// Time since the first attempt, less time the gate was shut.
    pub(crate) elapsed: Duration,
    /// Whether the circuit breaker is open now (this attempt's answer included).
    pub(crate) breaker_open: bool,
}

/// The next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Record `delivered`.
    Delivered,
    /// Dead-letter now.
    DeadLetter { kind: ErrorKind, message: String },
    /// Record `retrying`; wait a backoff for attempt `backoff_attempt` (at
    /// least `at_least`), then try again.
    Retry {
        failures: u32,
        backoff_attempt: u32,
        at_least: Option<Duration>,
    },
    /// Record `retrying` and wait at the gate: the target is broken, which
    /// says nothing about this event, so no attempt is used up.
    Hold,
}

/// Decides what follows `verdict`.
pub(crate) fn next_step(verdict: &Verdict, progress: Progress, budget: Budget) -> Step {
    let out_of_time = progress.elapsed >= budget.max_elapsed;
    let exhausted = |failures: u32, message: &str| Step::DeadLetter {
        kind: ErrorKind::RetriesExhausted,
        message: format!(
            "gave up after {} attempts ({failures} failed) in {:?}; last: {message}",
            progress.attempt, progress.elapsed
        ),
    };
    match verdict {
        Verdict::Delivered => Step::Delivered,
        Verdict::Poison { kind, message } => Step::DeadLetter {
            kind: *kind,
            message: message.clone(),
        },
        Verdict::TargetBroken { .. } => Step::Hold,
        Verdict::Retry { kind, .. } if progress.breaker_open && *kind != ErrorKind::RateLimited => {
            // This failure was part of the run that opened the breaker.
            Step::Hold
        }
        Verdict::Retry {
            kind,
            retry_after,
            message,
        } => {
            // Rate-limit answers say "later", not "never".
            let failures = if *kind == ErrorKind::RateLimited {
                progress.failures
            } else {
                progress.failures.saturating_add(1)
            };
            if failures >= budget.max_attempts || out_of_time {
                return exhausted(failures, message);
            }
            Step::Retry {
                failures,
                backoff_attempt: progress.attempt,
                at_least: *retry_after,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Fault;

    const BUDGET: Budget = Budget {
        max_attempts: 3,
        max_elapsed: Duration::from_secs(60),
    };

    fn at(attempt: u32, failures: u32) -> Progress {
        Progress {
            attempt,
            failures,
            elapsed: Duration::from_secs(1),
            breaker_open: false,
        }
    }

    fn retry(kind: ErrorKind) -> Verdict {
        Verdict::Retry {
            kind,
            retry_after: Some(Duration::from_secs(2)),
            message: "m".into(),
        }
    }

    #[test]
    fn failures_count_until_the_budget_runs_out() {
        let server = retry(ErrorKind::ServerError);
        assert_eq!(
            next_step(&server, at(1, 0), BUDGET),
            Step::Retry {
                failures: 1,
                backoff_attempt: 1,
                at_least: Some(Duration::from_secs(2))
            }
        );
        assert!(matches!(
            next_step(&server, at(3, 2), BUDGET),
            Step::DeadLetter { kind: ErrorKind::RetriesExhausted, ref message } if message.contains("3 attempts")
        ));
    }

    #[test]
    fn rate_limits_do_not_use_attempts_but_time_still_bounds_them() {
        let rate = retry(ErrorKind::RateLimited);
        assert!(matches!(
            next_step(&rate, at(9, 2), BUDGET),
            Step::Retry { failures: 2, .. }
        ));
        let late = Progress {
            elapsed: BUDGET.max_elapsed,
            ..at(9, 0)
        };
        assert!(matches!(
            next_step(&rate, late, BUDGET),
            Step::DeadLetter {
                kind: ErrorKind::RetriesExhausted,
                ..
            }
        ));
    }

    #[test]
    fn a_broken_target_holds_the_event_without_spending_its_budget() {
        let broken = Verdict::TargetBroken {
            kind: ErrorKind::ClientError,
            fault: Fault::Unauthorized,
            message: "HTTP 401".into(),
        };
        assert_eq!(next_step(&broken, at(3, 2), BUDGET), Step::Hold);
        let during_outage = Progress {
            breaker_open: true,
            ..at(3, 2)
        };
        assert_eq!(
            next_step(&retry(ErrorKind::ServerError), during_outage, BUDGET),
            Step::Hold
        );
    }

    #[test]
    fn delivered_and_poison_end_at_once() {
        assert_eq!(
            next_step(&Verdict::Delivered, at(1, 0), BUDGET),
            Step::Delivered
        );
        let poison = Verdict::Poison {
            kind: ErrorKind::GraphqlError,
            message: "bad".into(),
        };
        assert_eq!(
            next_step(&poison, at(1, 0), BUDGET),
            Step::DeadLetter {
                kind: ErrorKind::GraphqlError,
                message: "bad".into()
            }
        );
    }
}
