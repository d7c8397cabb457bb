//! Waiting between attempts: exponential backoff with full jitter, so
//! replicas (or partitions) that failed together do not retry together.
//! Every retry loop in the workspace waits through this.

use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

/// Attempt n waits a random time in [0, min(max, base × 2ⁿ⁻¹)].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first attempt's ceiling.
    pub base: Duration,
    /// No wait is longer than this.
    pub max: Duration,
}

impl Backoff {
    /// The ceiling for failed attempt `attempt` (1-based), before jitter.
    pub fn cap(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base.saturating_mul(factor).min(self.max)
    }

    /// How long to wait after failed attempt `attempt`; never less than
    /// `at_least` (what a server asked for with `Retry-After`).
    pub fn delay(&self, attempt: u32, at_least: Option<Duration>) -> Duration {
        let cap = self.cap(attempt);
        let jittered = rand::thread_rng().gen_range(Duration::ZERO..=cap);
        jittered.max(at_least.unwrap_or(Duration::ZERO))
    }

    /// A fresh run of retries with this backoff.
    pub fn retries(self) -> Retries {
        Retries {
            backoff: self,
            failures: 0,
        }
    }
}

/// One run of retries: each failure waits longer, up to the backoff's max,
/// until `succeeded` starts over.
#[derive(Debug, Clone)]
pub struct Retries {
    backoff: Backoff,
    failures: u32,
}

impl Retries {
    /// Counts a failure and returns how long to wait before the next attempt.
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.backoff.delay(self.failures, None)
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The next failure waits the shortest time again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// The wait was cut short: the caller is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled while waiting to retry")]
pub struct Cancelled;

/// Sleeps `delay`, unless `cancel` fires first.
pub async fn wait(cancel: &CancellationToken, delay: Duration) -> Result<(), Cancelled> {
    tokio::select! {
        () = cancel.cancelled() => Err(Cancelled),
        () = tokio::time::sleep(delay) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_secs(5),
    };

    #[test]
    fn cap_doubles_then_saturates() {
        assert_eq!(BACKOFF.cap(1), Duration::from_millis(100));
        assert_eq!(BACKOFF.cap(2), Duration::from_millis(200));
        assert_eq!(BACKOFF.cap(4), Duration::from_millis(800));
        assert_eq!(BACKOFF.cap(7), Duration::from_secs(5));
        assert_eq!(BACKOFF.cap(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn delay_stays_within_cap_and_honours_retry_after() {
        for attempt in 1..10 {
            assert!(BACKOFF.delay(attempt, None) <= BACKOFF.cap(attempt));
        }
        let asked = Duration::from_secs(30);
        assert_eq!(BACKOFF.delay(1, Some(asked)), asked);
    }

    #[test]
    fn retries_grow_then_start_over_after_a_success() {
        let mut retries = BACKOFF.retries();
        for expected in 1..=12 {
            assert!(retries.failed() <= BACKOFF.cap(expected));
            assert_eq!(retries.failures(), expected);
        }
        retries.succeeded();
        assert_eq!(retries.failures(), 0);
        assert!(retries.failed() <= BACKOFF.base);
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            seen.insert(BACKOFF.delay(7, None));
        }
        assert!(
            seen.len() > 10,
            "50 draws gave only {} distinct waits",
            seen.len()
        );
    }

    #[tokio::test]
    async fn wait_ends_early_when_cancelled() {
        let cancel = CancellationToken::new();
        assert_eq!(wait(&cancel, Duration::from_millis(10)).await, Ok(()));
        cancel.cancel();
        assert_eq!(
            wait(&cancel, Duration::from_secs(3600)).await,
            Err(Cancelled)
        );
    }
}
