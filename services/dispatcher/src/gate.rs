//! The gate every send passes: shut while ops have paused delivery, and
//! while the circuit breaker is open (but for its one probe). A delivery task
//! waits here holding its event, so the event stays in Kafka, uncommitted,
//! and its retry budget is not spent.
//!
//! The gate also keeps the time it has been shut, so an event's "retry for
//! at most this long" budget counts only time the target could be tried.

use parking_lot::Mutex;
use std::time::Duration;

use orch_telemetry::InternalEvent as _;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::breaker::{Admission, Breaker, BreakerSettings, BreakerView, Signal, Transition};
use crate::internal_events::{BreakerClosed, BreakerOpened, ProbeFailed};

/// Who paused delivery, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Pause {
    pub(crate) reason: String,
    pub(crate) by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
    /// When the reason says it ends, if it says.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) until: Option<OffsetDateTime>,
}

#[derive(Debug)]
struct State {
    breaker: Breaker,
    pause: Option<Pause>,
    /// Time shut before `shut_since`.
    held: Duration,
    shut_since: Option<Instant>,
}

impl State {
    fn is_shut(&self) -> bool {
        self.pause.is_some() || self.breaker.is_open()
    }

    /// Keeps the shut clock in step after any change.
    fn settle(&mut self, now: Instant) {
        match (self.is_shut(), self.shut_since) {
            (true, None) => self.shut_since = Some(now),
            (false, Some(since)) => {
                self.held = self
                    .held
                    .saturating_add(now.saturating_duration_since(since));
                self.shut_since = None;
            }
            _ => {}
        }
        metrics::gauge!("orch_dispatcher_breaker_open")
            .set(f64::from(u8::from(self.breaker.is_open())));
        metrics::gauge!("orch_dispatcher_delivery_paused")
            .set(f64::from(u8::from(self.pause.is_some())));
        // Timestamps, so the alert can compare the pause with what its
        // reason allowed (0: not paused, or no end stated).
        let since = self.pause.as_ref().map_or(0, |p| p.at.unix_timestamp());
        let until = self
            .pause
            .as_ref()
            .and_then(|p| p.until)
            .map_or(0, OffsetDateTime::unix_timestamp);
        metrics::gauge!("orch_dispatcher_delivery_paused_since_timestamp_seconds")
            .set(since as f64);
        metrics::gauge!("orch_dispatcher_delivery_paused_until_timestamp_seconds")
            .set(until as f64);
    }
}

/// Shared by every delivery task of the replica.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<State>,
    changed: Notify,
}

/// Leave to send one request. A probe permit that is dropped unreported
/// (its task was cancelled) is handed back, so the next waiter probes.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    gate: &'a Gate,
    epoch: u64,
    probe: bool,
    settled: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            let mut state = self.gate.lock();
            state.breaker.release_probe(self.epoch, Instant::now());
            drop(state);
            self.gate.changed.notify_waiters();
        }
    }
}

impl Permit<'_> {
    /// Reports what the attempt said about the target.
    pub(crate) fn report(mut self, signal: Signal) {
        self.settled = true;
        self.gate.report(self.epoch, self.probe, signal);
    }
}

impl Gate {
    pub(crate) fn new(settings: BreakerSettings) -> Self {
        let gate = Self {
            state: Mutex::new(State {
                breaker: Breaker::new(settings),
                pause: None,
                held: Duration::ZERO,
                shut_since: None,
            }),
            changed: Notify::new(),
        };
        gate.lock().settle(Instant::now());
        gate
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Waits until a request may go.
    pub(crate) async fn admit(&self) -> Permit<'_> {
        loop {
            // Registered before the state is read, so a change between the
            // read and the wait still wakes us.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let admission = {
                let mut state = self.lock();
                if state.pause.is_some() {
                    None
                } else {
                    Some(state.breaker.admit(Instant::now()))
                }
            };
            match admission {
                Some(Admission::Send { epoch, probe }) => {
                    return Permit {
                        gate: self,
                        epoch,
                        probe,
                        settled: false,
                    };
                }
                Some(Admission::Wait { until }) => {
                    tokio::select! {
                        () = &mut changed => {}
                        () = tokio::time::sleep_until(until) => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Whether `permit` may still be used: not paused, and the breaker has not
    /// moved since it was given (a probe may go while the breaker is open).
    pub(crate) fn still_open(&self, permit: &Permit<'_>) -> bool {
        let state = self.lock();
        state.pause.is_none() && state.breaker.still_valid(permit.epoch, permit.probe)
    }

    fn report(&self, epoch: u64, probe: bool, signal: Signal) {
        let now = Instant::now();
        let transition = {
            let mut state = self.lock();
            let transition = state.breaker.report(epoch, probe, signal, now);
            state.settle(now);
            transition
        };
        match transition {
            None => return,
            Some(Transition::Opened(trip)) => BreakerOpened { trip: &trip }.emit(),
            Some(Transition::Closed { open_for }) => BreakerClosed { open_for }.emit(),
            Some(Transition::ProbeFailed { next_in }) => ProbeFailed { next_in }.emit(),
        }
        self.changed.notify_waiters();
    }

    /// Pauses (`Some`) or resumes (`None`) delivery.
    pub(crate) fn set_pause(&self, pause: Option<Pause>) {
        {
            let mut state = self.lock();
            state.pause = pause;
            state.settle(Instant::now());
        }
        self.changed.notify_waiters();
    }

    /// Whether the breaker is open now.
    pub(crate) fn breaker_open(&self) -> bool {
        self.lock().breaker.is_open()
    }

    /// Total time the gate has been shut since start.
    pub(crate) fn held_time(&self) -> Duration {
        let state = self.lock();
        let current = state
            .shut_since
            .map_or(Duration::ZERO, |since| since.elapsed());
        state.held.saturating_add(current)
    }

    /// The breaker and the pause, for `/status`.
    pub(crate) fn view(&self) -> (BreakerView, Option<Pause>) {
        let state = self.lock();
        (state.breaker.view(Instant::now()), state.pause.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Fault;

    const SETTINGS: BreakerSettings = BreakerSettings {
        failure_run: 5,
        probe_base: Duration::from_secs(1),
        probe_max: Duration::from_secs(8),
        probe_lease: Duration::from_secs(30),
    };

    fn pause() -> Pause {
        Pause {
            reason: "maintenance".into(),
            by: "ops".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            until: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_sender_until_resumed_and_counts_as_held_time() {
        let gate = std::sync::Arc::new(Gate::new(SETTINGS));
        let permit = gate.admit().await;
        gate.set_pause(Some(pause()));
        assert!(!gate.still_open(&permit), "a queued send is stopped");
        drop(permit);
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.admit().await;
            })
        };
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!waiter.is_finished());
        gate.set_pause(None);
        waiter.await.unwrap();
        assert_eq!(gate.held_time(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_lets_one_probe_through_and_closes_on_its_success() {
        let gate = Gate::new(SETTINGS);
        gate.admit()
            .await
            .report(Signal::Broken(Fault::Unauthorized, "401".into()));
        assert!(gate.breaker_open());
        let started = Instant::now();
        let probe = gate.admit().await;
        assert_eq!(started.elapsed(), SETTINGS.probe_base);
        assert!(gate.still_open(&probe), "the probe may go");
        let second = tokio::time::timeout(Duration::from_secs(5), gate.admit()).await;
        assert!(second.is_err(), "only one probe at a time");
        probe.report(Signal::Delivered);
        assert!(!gate.breaker_open());
        // Shut from the 401 until the probe's success: the wait for the
        // probe and the five seconds no second probe got.
        assert_eq!(
            gate.held_time(),
            SETTINGS.probe_base + Duration::from_secs(5)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_probe_is_handed_to_the_next_waiter() {
        let gate = Gate::new(SETTINGS);
        gate.admit()
            .await
            .report(Signal::Broken(Fault::WrongUrl, "404".into()));
        let probe = gate.admit().await;
        drop(probe);
        let next = tokio::time::timeout(Duration::from_millis(10), gate.admit()).await;
        assert!(next.is_ok(), "the probe slot was given back");
    }
}
