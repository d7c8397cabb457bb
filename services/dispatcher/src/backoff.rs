use std::time::Duration;

use rand::Rng;

/// Exponential backoff with full jitter: attempt n waits a random time in
/// [0, min(max, base × 2ⁿ⁻¹)], so replicas that failed together do not retry
/// together; never less than what the target asked for with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The ceiling for attempt `attempt` (1-based), before jitter.
    pub(crate) fn cap(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base.saturating_mul(factor).min(self.max)
    }

    /// How long to wait after failed attempt `attempt`.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let cap = self.cap(attempt);
        let jittered = rand::thread_rng().gen_range(Duration::ZERO..=cap);
        jittered.max(retry_after.unwrap_or(Duration::ZERO))
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
}
