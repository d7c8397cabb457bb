//! The rate limit: sends spaced evenly at this replica's share of the group's
//! limit, so that no window of any length carries more than its share (a burst
//! of one). The rate changes at run time without resetting the spacing: on
//! every rebalance (a new share) and, adaptively, on the target's rate-limit
//! answers (AIMD: halve, then recover additively). governor's quotas are fixed
//! at construction, and swapping limiters would let a burst through at each
//! change, which is exactly what the target must never see.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Lowest rate AIMD backs off to, as a share of the configured rate.
const FLOOR: f64 = 0.02;
/// Each recovery step adds this share of the configured rate ...
const RECOVERY_STEP: f64 = 0.05;
/// ... at most this often.
const RECOVERY_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct State {
    /// This replica's share of the group limit (events/s).
    share: f64,
    /// The rate in force: `share`, lowered by AIMD after rate-limit answers.
    current: f64,
    /// The earliest moment the next send may go.
    next: Instant,
    /// No send before this (the target's `Retry-After`).
    paused_until: Instant,
    last_change: Instant,
}

/// Paces sends; shared by every delivery task of the replica.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

impl Pacer {
    /// A pacer at `rate` events/s (0 pauses sending until a share is set).
    pub(crate) fn new(rate: f64) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                share: rate,
                current: rate,
                next: now,
                paused_until: now,
                last_change: now,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for this task's slot. Slots are handed out in order, one per
    /// 1/rate, never earlier than a pause the target asked for.
    pub(crate) async fn acquire(&self) {
        let slot = {
            let mut state = self.lock();
            let now = Instant::now();
            let slot = now.max(state.next).max(state.paused_until);
            let interval = if state.current > 0.0 {
                Duration::from_secs_f64(1.0 / state.current)
            } else {
                Duration::from_secs(1)
            };
            state.next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// A new share after a rebalance; AIMD's current reduction carries over
    /// in proportion.
    pub(crate) fn set_share(&self, share: f64) {
        let mut state = self.lock();
        let ratio = if state.share > 0.0 {
            state.current / state.share
        } else {
            1.0
        };
        let was_idle = state.share <= 0.0;
        state.share = share;
        state.current = share * ratio.clamp(FLOOR, 1.0);
        if was_idle && state.current > 0.0 {
            // A replica that just got partitions waits one interval before its
            // first send, so its start never adds to the tail of a window in
            // which the previous owner was still sending.
            let first = Instant::now() + Duration::from_secs_f64(1.0 / state.current);
            state.next = state.next.max(first);
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
        if let Some(wait) = retry_after {
            state.paused_until = state.paused_until.max(now + wait);
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
    #[cfg(test)]
    pub(crate) fn current(&self) -> f64 {
        self.lock().current
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
        // 20 sends at 10/s take 1.9 s; none closer than 100 ms apart.
        assert_eq!(times[19], Duration::from_millis(1_900));
        assert!(
            times
                .windows(2)
                .all(|w| w[1] - w[0] == Duration::from_millis(100))
        );
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
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(2),
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
