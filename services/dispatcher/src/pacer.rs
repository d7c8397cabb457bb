//! The rate limit: sends spaced evenly at this replica's share of the group's
//! limit, so that no window of any length carries more than its share (a burst
//! of one). The rate changes at run time without resetting the spacing: on
//! every rebalance (a new share) and, adaptively, on the target's rate-limit
//! answers (AIMD: halve, then recover additively). governor's quotas are fixed
//! at construction, and swapping limiters would let a burst through at each
//! change, which is exactly what the target must never see. Each send is
//! also entered in an [`ArrivalLedger`], which holds sends back when requests
//! held up on their way would otherwise bunch into one window at the target.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::arrivals::ArrivalLedger;

/// Lowest rate AIMD backs off to, as a share of the configured rate.
const FLOOR: f64 = 0.02;
/// Each recovery step adds this share of the configured rate ...
const RECOVERY_STEP: f64 = 0.05;
/// ... at most this often.
const RECOVERY_EVERY: Duration = Duration::from_millis(500);
/// How much later than its slot a request may reach the target (scheduling,
/// connection reuse, the network) without a window there holding more than
/// the rate. See [`paced`].
const ARRIVAL_JITTER_SECS: f64 = 0.025;
/// How late a slot may still be used (see `release`).
const MAX_LAG: Duration = Duration::from_millis(5);

#[derive(Debug)]
struct State {
    /// This replica's share of the group limit (events/s).
    share: f64,
    /// The rate in force: `share`, lowered by AIMD after rate-limit answers.
    current: f64,
    /// No send before this (the target's `Retry-After`, or a new share's start).
    paused_until: Instant,
    last_change: Instant,
    /// When the requests of the last second may have reached the target.
    ledger: ArrivalLedger,
}

/// Paces sends; shared by every delivery task of the replica. Permits are
/// handed out one at a time, in arrival order, by one task that spaces them
/// by the interval measured from the previous *actual* release, so a late
/// timer never leads to a catch-up burst.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Arc<Mutex<State>>,
    waiters: mpsc::UnboundedSender<oneshot::Sender<Sending>>,
}

impl Pacer {
    /// A pacer at `rate` events/s (0 sends nothing until a share is set).
    /// Starts its releasing task on the current runtime.
    pub(crate) fn new(rate: f64) -> Self {
        let now = Instant::now();
        let state = Arc::new(Mutex::new(State {
            share: rate,
            current: rate,
            paused_until: now,
            last_change: now,
            ledger: ArrivalLedger::new(now),
        }));
        let (waiters, queue) = mpsc::unbounded_channel();
        tokio::spawn(release(state.clone(), queue));
        Self { state, waiters }
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Waits for this task's turn to send; hold the answer until the
    /// target has answered (or the request is given up).
    pub(crate) async fn acquire(&self) -> Sending {
        let (permit, turn) = oneshot::channel();
        if self.waiters.send(permit).is_ok()
            && let Ok(sending) = turn.await
        {
            return sending;
        }
        // The releasing task is gone (the runtime is stopping): unpaced.
        Sending {
            ledger: None,
            sent: Instant::now(),
        }
    }

    /// A new share after a rebalance; AIMD's current reduction carries over
    /// in proportion.
    pub(crate) fn set_share(&self, share: f64) {
        let mut state = self.lock();
        let was_idle = state.share <= 0.0;
        let ratio = if state.share > 0.0 {
            state.current / state.share
        } else {
            1.0
        };
        state.share = share;
        state.current = share * ratio.clamp(FLOOR, 1.0);
        if was_idle && state.current > 0.0 {
            // A replica that just got partitions waits one interval before its
            // first send, so its start never adds to the tail of a window in
            // which the previous owner was still sending.
            let interval = Duration::try_from_secs_f64(1.0 / state.current).unwrap_or_default();
            if let Some(first) = Instant::now().checked_add(interval) {
                state.paused_until = state.paused_until.max(first);
            }
        }
        metrics::gauge!("orch_dispatcher_rate_share_per_second").set(share);
        metrics::gauge!("orch_dispatcher_rate_current_per_second").set(state.current);
    }

    /// The target said "too fast": halve the rate and wait at least `retry_after`.
    pub(crate) fn on_rate_limited(&self, retry_after: Option<Duration>) {
        let mut state = self.lock();
        let now = Instant::now();
        // One decrease per recovery period: a burst of 429s for the same
        // moment is one signal, not many.
        if now.duration_since(state.last_change) >= RECOVERY_EVERY || state.current >= state.share {
            state.current = (state.current * 0.5).max(state.share * FLOOR);
            state.last_change = now;
        }
        // `retry_after` is clamped by the classifier; the check is for a
        // value that slips past it, which must never panic the task.
        if let Some(until) = retry_after.and_then(|wait| now.checked_add(wait)) {
            state.paused_until = state.paused_until.max(until);
        }
        metrics::gauge!("orch_dispatcher_rate_current_per_second").set(state.current);
    }

    /// A delivery went through: recover towards the share, additively.
    pub(crate) fn on_success(&self) {
        let mut state = self.lock();
        if state.current >= state.share {
            return;
        }
        let now = Instant::now();
        if now.duration_since(state.last_change) >= RECOVERY_EVERY {
            state.current = (state.current + state.share * RECOVERY_STEP).min(state.share);
            state.last_change = now;
            metrics::gauge!("orch_dispatcher_rate_current_per_second").set(state.current);
        }
    }

    /// The rate in force.
    pub(crate) fn current(&self) -> f64 {
        self.lock().current
    }
}

/// A request on its way: dropped when it is answered or given up, which
/// dates its latest possible arrival in the ledger. It travels to the
/// waiting task by value, so a task cancelled after its turn came still
/// settles it (as arriving then).
#[derive(Debug)]
pub(crate) struct Sending {
    ledger: Option<Arc<Mutex<State>>>,
    sent: Instant,
}

impl Sending {
    /// Nobody took the turn: nothing was sent.
    fn withdraw(mut self) {
        if let Some(state) = self.ledger.take() {
            lock(&state).ledger.withdrawn();
        }
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        if let Some(state) = &self.ledger {
            lock(state).ledger.answered(self.sent, Instant::now());
        }
    }
}

/// The rate sends are spaced at so that no 1 s window at the target holds
/// more than `rate`: evenly spaced sends at `r` put ⌊r⌋ + 1 in some window
/// (a send at each end), and a request arriving up to the jitter late moves
/// into the next window. So `r` = (rate − 1) / (1 s + jitter): 97.5 % of
/// 1,000/s, 96.6 % of 100/s. Below 2/s half the rate is kept instead, as a
/// floor; the window still holds at most `rate`.
fn paced(rate: f64) -> f64 {
    if rate <= 0.0 {
        return 0.0;
    }
    (rate - 1.0).max(rate * 0.5) / (1.0 + ARRIVAL_JITTER_SECS)
}

fn lock(state: &Mutex<State>) -> parking_lot::MutexGuard<'_, State> {
    state.lock()
}

/// Hands out permits one at a time on a schedule of one slot per interval,
/// reading the rate afresh for each. The timer has millisecond resolution, so
/// waking late is normal: slots missed by up to `MAX_LAG` are still used (a
/// tiny catch-up), older ones are given up, never replayed as a burst. So any
/// window of length W carries at most ⌊r × (W + MAX_LAG)⌋ + 1 sends at the
/// paced rate r; the catch-up is a part of the jitter [`paced`] allows for.
async fn release(
    state: Arc<Mutex<State>>,
    mut queue: mpsc::UnboundedReceiver<oneshot::Sender<Sending>>,
) {
    let mut next_slot: Option<Instant> = None;
    while let Some(permit) = queue.recv().await {
        if permit.is_closed() {
            continue; // the waiting task gave up (cancelled): no slot used
        }
        let (slot, sending) = loop {
            let now = Instant::now();
            let (rate, paused_until, room) = {
                let mut state = lock(&state);
                let limit = state.current;
                (
                    paced(limit),
                    state.paused_until,
                    state.ledger.has_room(now, limit),
                )
            };
            let oldest_usable = now.checked_sub(MAX_LAG).unwrap_or(now);
            let slot = next_slot
                .map_or(now, |slot| slot.max(oldest_usable))
                .max(paused_until);
            if rate > 0.0 && now >= slot && room {
                lock(&state).ledger.sent();
                let interval = Duration::try_from_secs_f64(1.0 / rate).unwrap_or_default();
                next_slot = Some(slot.checked_add(interval).unwrap_or(slot));
                let sending = Sending {
                    ledger: Some(state.clone()),
                    sent: now,
                };
                break (slot, sending);
            }
            // Re-read after sleeping: the rate, a pause or the ledger may
            // have changed (a full ledger frees a slot within a millisecond
            // or when an answer comes; checking each millisecond is cheap).
            let wake = if rate <= 0.0 {
                now + Duration::from_millis(100)
            } else if room {
                slot
            } else {
                slot.max(now + Duration::from_millis(1))
            };
            tokio::time::sleep_until(wake.max(now + Duration::from_micros(1))).await;
        };
        if let Err(sending) = permit.send(sending) {
            sending.withdraw();
            next_slot = Some(slot); // nobody took it: the slot is still free
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The busiest 1 s window at a target that sees each send `delay(i)` late.
    fn busiest_window(sends: &[Duration], delay: impl Fn(usize) -> Duration) -> usize {
        let mut arrivals: Vec<Duration> = sends
            .iter()
            .enumerate()
            .map(|(i, t)| *t + delay(i))
            .collect();
        arrivals.sort_unstable();
        (0..arrivals.len())
            .map(|i| {
                arrivals[i..]
                    .iter()
                    .take_while(|t| **t - arrivals[i] <= Duration::from_secs(1))
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_evenly_with_no_burst_after_a_quiet_spell() {
        for rate in [10.0, 100.0, 1_000.0] {
            let pacer = Pacer::new(rate);
            tokio::time::sleep(Duration::from_secs(5)).await;
            let start = Instant::now();
            let mut times = Vec::new();
            let sends = (rate * 3.0) as usize;
            for _ in 0..sends {
                pacer.acquire().await;
                times.push(start.elapsed());
            }
            // The first goes at once after the quiet spell.
            assert_eq!(times[0], Duration::ZERO);
            let limit = rate as usize;
            // No 1 s window (both ends included) holds more than the rate,
            // even when the requests sent before some moment reach the target
            // 25 ms late and those after it on time, bunching at the seam.
            let on_time = busiest_window(&times, |_| Duration::ZERO);
            let jittered = busiest_window(&times, |i| {
                Duration::from_millis(if i < sends / 2 { 25 } else { 0 })
            });
            assert!(
                on_time <= limit,
                "{on_time} sends in one second at {rate}/s"
            );
            assert!(
                jittered <= limit,
                "{jittered} arrivals in one second at {rate}/s"
            );
            // And the rate is used: (rate − 1) / 1.025 a second.
            let used = (sends - 1) as f64 / times[sends - 1].as_secs_f64() / rate;
            let floor = (rate - 1.0) / rate / 1.025 - 0.001;
            assert!(
                used >= floor,
                "{used:.4} of {rate}/s used, below {floor:.4}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_held_up_at_the_target_do_not_bunch_into_one_window() {
        let rate = 1_000.0;
        let pacer = Pacer::new(rate);
        let start = Instant::now();
        let mut arrivals = Vec::new();
        let answered_at_once = |arrivals: &mut Vec<Duration>, sending: Sending| {
            arrivals.push(start.elapsed());
            drop(sending);
        };
        while start.elapsed() < Duration::from_secs(1) {
            let sending = pacer.acquire().await;
            answered_at_once(&mut arrivals, sending);
        }
        // The target stalls for 75 ms: what is sent meanwhile reaches it,
        // and is answered, only when it resumes — three times the jitter the
        // pacing allows for.
        let resumes = start.elapsed() + Duration::from_millis(75);
        let mut held = Vec::new();
        while start.elapsed() < resumes {
            held.push(pacer.acquire().await);
        }
        let stuck = held.len();
        assert!(stuck >= 70, "the stall held only {stuck} requests");
        tokio::time::sleep_until(start + resumes).await;
        arrivals.extend(std::iter::repeat_n(start.elapsed(), stuck));
        drop(held);
        while start.elapsed() < Duration::from_secs(3) {
            let sending = pacer.acquire().await;
            answered_at_once(&mut arrivals, sending);
        }
        // Paced alone, the held requests and the next second's would share a
        // window: 975 + 73. The ledger holds sends back until they leave it.
        let busiest = busiest_window(&arrivals, |_| Duration::ZERO);
        assert!(busiest <= rate as usize, "{busiest} arrivals in one second");
        // And it costs only the stall's requests: the rest of the time the
        // pacing rate is used.
        let used = arrivals.len() as f64 / 3.0 / rate;
        assert!(used >= 0.95, "{used:.3} of the rate used");
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_answers_halve_the_rate_and_honour_retry_after_then_it_recovers() {
        let pacer = Pacer::new(100.0);
        pacer.on_rate_limited(Some(Duration::from_secs(2)));
        assert_eq!(pacer.current(), 50.0);
        // A second 429 for the same moment is the same signal.
        pacer.on_rate_limited(None);
        assert_eq!(pacer.current(), 50.0);
        let start = Instant::now();
        pacer.acquire().await;
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "waits out Retry-After"
        );
        for _ in 0..10 {
            tokio::time::sleep(RECOVERY_EVERY).await;
            pacer.on_success();
        }
        assert_eq!(pacer.current(), 100.0, "back to the share, never above");
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_share_keeps_the_aimd_reduction_in_proportion() {
        let pacer = Pacer::new(100.0);
        pacer.on_rate_limited(None);
        pacer.set_share(50.0);
        assert_eq!(pacer.current(), 25.0);
    }
}
