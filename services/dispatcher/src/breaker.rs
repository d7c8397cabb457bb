//! The circuit breaker: one per replica, watching outcomes across events.
//! An answer that says the target itself is broken (see `classify::Fault`),
//! or a run of failures, opens it; while open nothing is sent but one probe
//! at a time, on an exponential schedule; the first probe the target answers
//! closes it. Pure: every method takes the time, so tests drive it.
//!
//! Permits carry the breaker's epoch, which moves on every open and close.
//! A report from a permit of an older epoch is stale (its request left
//! before the last change) and changes nothing: an answer that was already
//! on its way must not re-open a breaker a probe just closed, nor close one
//! a burst of 401s just opened.

use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

use crate::classify::Fault;

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BreakerSettings {
    /// Failures in a row, across events, that open it.
    pub(crate) failure_run: u32,
    /// The first wait before a probe; doubled after each failed probe ...
    pub(crate) probe_base: Duration,
    /// ... up to this.
    pub(crate) probe_max: Duration,
    /// A probe not reported within this is taken as lost, and another is sent.
    pub(crate) probe_lease: Duration,
}

/// What one attempt said about the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signal {
    /// It took the event.
    Delivered,
    /// It judged the event (refused it, or asked us to slow down): it works.
    Answered,
    /// It failed in a way that may pass (5xx, timeout, broken connection).
    Failed(String),
    /// It is broken for every event.
    Broken(Fault, String),
}

/// Why the breaker opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trip {
    pub(crate) fault: Fault,
    pub(crate) message: String,
    pub(crate) at: OffsetDateTime,
}

/// The answer to "may I send?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send, under this epoch; `probe` if it is the one probe of an open breaker.
    Send { epoch: u64, probe: bool },
    /// Not now; ask again at `until` (or when something changes).
    Wait { until: Instant },
}

/// A change worth telling operators about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transition {
    Opened(Trip),
    Closed { open_for: Duration },
    ProbeFailed { next_in: Duration },
}

#[derive(Debug, Clone)]
struct Open {
    trip: Trip,
    since: Instant,
    interval: Duration,
    next_probe: Instant,
    /// A probe is out until then.
    probe_until: Option<Instant>,
}

/// The breaker's state machine.
#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    settings: BreakerSettings,
    epoch: u64,
    run: u32,
    open: Option<Open>,
}

/// What `/status` shows of the breaker.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct BreakerView {
    /// `closed`, `open` (waiting for the next probe) or `probing`.
    pub(crate) state: &'static str,
    pub(crate) fault: Option<&'static str>,
    pub(crate) message: Option<String>,
    pub(crate) check: Option<&'static str>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) opened_at: Option<OffsetDateTime>,
    pub(crate) next_probe_in_ms: Option<u64>,
    /// Failures in a row so far, while closed.
    pub(crate) failure_run: u32,
}

impl Breaker {
    pub(crate) fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            epoch: 0,
            run: 0,
            open: None,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// May a request go now?
    pub(crate) fn admit(&mut self, now: Instant) -> Admission {
        let epoch = self.epoch;
        let lease = self.settings.probe_lease;
        let Some(open) = &mut self.open else {
            return Admission::Send {
                epoch,
                probe: false,
            };
        };
        match open.probe_until {
            Some(until) if now < until => return Admission::Wait { until },
            // The probe never reported (its task was cancelled or lost):
            // send another at once.
            Some(_) => {
                open.probe_until = None;
                open.next_probe = now;
            }
            None => {}
        }
        if now >= open.next_probe {
            open.probe_until = Some(now.checked_add(lease).unwrap_or(now));
            Admission::Send { epoch, probe: true }
        } else {
            Admission::Wait {
                until: open.next_probe,
            }
        }
    }

    /// Whether a permit admitted earlier may still be used: nothing changed
    /// since, or it is the open breaker's probe.
    pub(crate) fn still_valid(&self, epoch: u64, probe: bool) -> bool {
        epoch == self.epoch && (self.open.is_none() || probe)
    }

    /// What an attempt under (`epoch`, `probe`) said.
    pub(crate) fn report(
        &mut self,
        epoch: u64,
        probe: bool,
        signal: Signal,
        now: Instant,
    ) -> Option<Transition> {
        if epoch != self.epoch {
            return None;
        }
        let Some(open) = &mut self.open else {
            return match signal {
                Signal::Delivered | Signal::Answered => {
                    self.run = 0;
                    None
                }
                Signal::Failed(message) => {
                    self.run = self.run.saturating_add(1);
                    (self.run >= self.settings.failure_run).then(|| {
                        let message =
                            format!("{} failures in a row; the last: {message}", self.run);
                        self.trip(Fault::FailureRun, message, now)
                    })
                }
                Signal::Broken(fault, message) => Some(self.trip(fault, message, now)),
            };
        };
        if !probe {
            return None;
        }
        match signal {
            Signal::Delivered | Signal::Answered => {
                let open_for = now.saturating_duration_since(open.since);
                self.epoch += 1;
                self.run = 0;
                self.open = None;
                Some(Transition::Closed { open_for })
            }
            Signal::Failed(_) | Signal::Broken(..) => {
                open.interval = open.interval.saturating_mul(2).min(self.settings.probe_max);
                open.next_probe = now.checked_add(open.interval).unwrap_or(now);
                open.probe_until = None;
                Some(Transition::ProbeFailed {
                    next_in: open.interval,
                })
            }
        }
    }

    /// A probe permit was given back unused (its task was cancelled before
    /// sending): the next waiter may probe at once.
    pub(crate) fn release_probe(&mut self, epoch: u64, now: Instant) {
        if epoch != self.epoch {
            return;
        }
        if let Some(open) = &mut self.open {
            open.probe_until = None;
            open.next_probe = open.next_probe.min(now);
        }
    }

    fn trip(&mut self, fault: Fault, message: String, now: Instant) -> Transition {
        let interval = self.settings.probe_base;
        let trip = Trip {
            fault,
            message,
            at: OffsetDateTime::now_utc(),
        };
        self.epoch += 1;
        self.run = 0;
        self.open = Some(Open {
            trip: trip.clone(),
            since: now,
            interval,
            next_probe: now.checked_add(interval).unwrap_or(now),
            probe_until: None,
        });
        Transition::Opened(trip)
    }

    pub(crate) fn view(&self, now: Instant) -> BreakerView {
        match &self.open {
            None => BreakerView {
                state: "closed",
                fault: None,
                message: None,
                check: None,
                opened_at: None,
                next_probe_in_ms: None,
                failure_run: self.run,
            },
            Some(open) => BreakerView {
                state: if open.probe_until.is_some() {
                    "probing"
                } else {
                    "open"
                },
                fault: Some(open.trip.fault.as_str()),
                message: Some(open.trip.message.clone()),
                check: Some(open.trip.fault.check()),
                opened_at: Some(open.trip.at),
                next_probe_in_ms: Some(
                    u64::try_from(open.next_probe.saturating_duration_since(now).as_millis())
                        .unwrap_or(u64::MAX),
                ),
                failure_run: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: BreakerSettings = BreakerSettings {
        failure_run: 3,
        probe_base: Duration::from_secs(1),
        probe_max: Duration::from_secs(4),
        probe_lease: Duration::from_secs(10),
    };

    fn send(breaker: &mut Breaker, now: Instant) -> (u64, bool) {
        match breaker.admit(now) {
            Admission::Send { epoch, probe } => (epoch, probe),
            Admission::Wait { until } => panic!("waits until {until:?}"),
        }
    }

    fn unauthorized() -> Signal {
        Signal::Broken(Fault::Unauthorized, "HTTP 401".into())
    }

    #[test]
    fn a_broken_answer_opens_it_and_stale_answers_change_nothing() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(SETTINGS);
        let (a, _) = send(&mut breaker, t0);
        let (b, _) = send(&mut breaker, t0);
        assert!(matches!(
            breaker.report(a, false, unauthorized(), t0),
            Some(Transition::Opened(Trip {
                fault: Fault::Unauthorized,
                ..
            }))
        ));
        assert!(breaker.is_open());
        assert!(!breaker.still_valid(b, false), "queued sends are stopped");
        // b's answer was already on its way: stale, ignored either way.
        assert_eq!(breaker.report(b, false, Signal::Delivered, t0), None);
        assert!(breaker.is_open());
        assert_eq!(
            breaker.admit(t0),
            Admission::Wait {
                until: t0 + SETTINGS.probe_base
            }
        );
    }

    #[test]
    fn a_run_of_failures_opens_it_and_a_success_resets_the_run() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(SETTINGS);
        let failed = || Signal::Failed("HTTP 503".into());
        for _ in 0..2 {
            let (epoch, _) = send(&mut breaker, t0);
            assert_eq!(breaker.report(epoch, false, failed(), t0), None);
        }
        let (epoch, _) = send(&mut breaker, t0);
        assert_eq!(breaker.report(epoch, false, Signal::Answered, t0), None);
        for _ in 0..2 {
            let (epoch, _) = send(&mut breaker, t0);
            assert_eq!(breaker.report(epoch, false, failed(), t0), None);
        }
        let (epoch, _) = send(&mut breaker, t0);
        let opened = breaker.report(epoch, false, failed(), t0);
        assert!(matches!(
            opened,
            Some(Transition::Opened(Trip { fault: Fault::FailureRun, ref message, .. })) if message.contains("3 failures")
        ));
    }

    #[test]
    fn probes_go_one_at_a_time_on_a_doubling_capped_schedule_and_close_it() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(SETTINGS);
        let (epoch, _) = send(&mut breaker, t0);
        breaker.report(epoch, false, unauthorized(), t0);
        let mut now = t0 + SETTINGS.probe_base;
        for expected in [2, 4, 4] {
            let probe_epoch = match breaker.admit(now) {
                Admission::Send { epoch, probe: true } => epoch,
                other => panic!("expected a probe at {:?}: {other:?}", now - t0),
            };
            // One probe at a time.
            assert!(matches!(breaker.admit(now), Admission::Wait { .. }));
            assert_eq!(
                breaker.report(probe_epoch, true, unauthorized(), now),
                Some(Transition::ProbeFailed {
                    next_in: Duration::from_secs(expected)
                })
            );
            let next = now + Duration::from_secs(expected);
            assert_eq!(breaker.admit(now), Admission::Wait { until: next });
            now = next;
        }
        let (epoch, probe) = send(&mut breaker, now);
        assert!(probe);
        assert!(matches!(
            breaker.report(epoch, true, Signal::Answered, now),
            Some(Transition::Closed { .. })
        ));
        assert!(!breaker.is_open());
        assert_eq!(send(&mut breaker, now), (epoch + 1, false));
    }

    #[test]
    fn a_lost_or_released_probe_is_replaced() {
        let t0 = Instant::now();
        let mut breaker = Breaker::new(SETTINGS);
        let (epoch, _) = send(&mut breaker, t0);
        breaker.report(epoch, false, unauthorized(), t0);
        let t1 = t0 + SETTINGS.probe_base;
        let (epoch, probe) = send(&mut breaker, t1);
        assert!(probe);
        breaker.release_probe(epoch, t1);
        assert!(matches!(
            breaker.admit(t1),
            Admission::Send { probe: true, .. }
        ));
        // This one is never reported: after its lease, another goes.
        let t2 = t1 + SETTINGS.probe_lease;
        assert!(matches!(
            breaker.admit(t2),
            Admission::Send { probe: true, .. }
        ));
        let view = breaker.view(t2);
        assert_eq!(view.state, "probing");
        assert_eq!(view.fault, Some("unauthorized"));
        assert!(view.check.unwrap().contains("DISPATCHER_TARGET_TOKEN"));
    }
}
