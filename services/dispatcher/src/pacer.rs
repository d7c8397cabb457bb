//! The rate limit: sends spaced evenly at this replica's share of the group's
//! limit, so that no window of any length carries more than its share (a burst
//! of one). The rate changes at run time without resetting the spacing: on
//! every rebalance (a new share) and, adaptively, on the target's rate-limit
//! answers (AIMD: halve, then recover additively). governor's quotas are fixed
//! at construction, and swapping limiters would let a burst through at each
//! change, which is exactly what the target must never see.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Lowest rate AIMD backs off to, as a share of the configured rate.
const FLOOR: f64 = 0.02;
/// Each recovery step adds this share of the configured rate ...
const RECOVERY_STEP: f64 = 0.05;
/// ... at most this often.
const RECOVERY_EVERY: Duration = Duration::from_millis(500);
/// Sends are paced at this share of the rate: timer ticks, scheduling and
/// network jitter can bunch sends by a few milliseconds, and the target's window must
/// never see more than the limit.
const HEADROOM: f64 = 0.98;
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
}

/// Paces sends; shared by every delivery task of the replica. Permits are
/// handed out one at a time, in arrival order, by one task that spaces them
/// by the interval measured from the previous *actual* release, so a late
/// timer never leads to a catch-up burst.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Arc<Mutex<State>>,
    waiters: mpsc::UnboundedSender<oneshot::Sender<()>>,
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
        }));
        let (waiters, queue) = mpsc::unbounded_channel();
        tokio::spawn(release(state.clone(), queue));
        Self { state, waiters }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Waits for this task's turn to send.
    pub(crate) async fn acquire(&self) {
        let (permit, turn) = oneshot::channel();
        if self.waiters.send(permit).is_ok() {
            let _ = turn.await;
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
        metrics::gauge!("dispatcher_rate_share_per_sec").set(share);
        metrics::gauge!("dispatcher_rate_current_per_sec").set(state.current);
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
        metrics::gauge!("dispatcher_rate_current_per_sec").set(state.current);
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
            metrics::gauge!("dispatcher_rate_current_per_sec").set(state.current);
        }
    }

    /// The rate in force.
    pub(crate) fn current(&self) -> f64 {
        self.lock().current
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hands out permits one at a time on a schedule of one slot per interval,
/// reading the rate afresh for each. The timer has millisecond resolution, so
/// waking late is normal: slots missed by up to `MAX_LAG` are still used (a
/// tiny catch-up), older ones are given up, never replayed as a burst. So any
/// window of length W carries at most rate × (W + MAX_LAG) sends, which the
/// headroom covers.
async fn release(
    state: Arc<Mutex<State>>,
    mut queue: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    let mut next_slot: Option<Instant> = None;
    while let Some(permit) = queue.recv().await {
        if permit.is_closed() {
            continue; // the waiting task gave up (cancelled): no slot used
        }
        let slot = loop {
            let (rate, paused_until) = {
                let state = lock(&state);
                (state.current * HEADROOM, state.paused_until)
            };
            let now = Instant::now();
            let oldest_usable = now.checked_sub(MAX_LAG).unwrap_or(now);
            let slot = next_slot
                .map_or(now, |slot| slot.max(oldest_usable))
                .max(paused_until);
            if rate > 0.0 && now >= slot {
                let interval = Duration::try_from_secs_f64(1.0 / rate).unwrap_or_default();
                next_slot = Some(slot.checked_add(interval).unwrap_or(slot));
                break slot;
            }
            // Re-read after sleeping: the rate or a pause may have changed.
            let wake = if rate > 0.0 {
                slot
            } else {
                now + Duration::from_millis(100)
            };
            tokio::time::sleep_until(wake.max(now + Duration::from_micros(1))).await;
        };
        if permit.send(()).is_err() {
            next_slot = Some(slot); // nobody took it: the slot is still free
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_evenly_with_no_burst_after_a_quiet_spell() {
        let pacer = Pacer::new(10.0);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..20 {
            pacer.acquire().await;
            times.push(start.elapsed());
        }
        // 20 sends at 10/s (less 1 % headroom): no 1 s window holds more
        // than 10, and the first goes at once after the quiet spell.
        assert_eq!(times[0], Duration::ZERO);
        for (i, start) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .filter(|t| **t - *start < Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 10,
                "{in_window} sends in the second from {start:?}"
            );
        }
        assert!(times[19] < Duration::from_millis(1_950), "{:?}", times[19]);
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
