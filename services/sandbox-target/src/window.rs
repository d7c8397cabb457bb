//! The oracle for "did the caller keep the rate limit": the most requests
//! admitted within any sliding window of the configured length.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Tracks admissions in the trailing window and the largest count seen.
#[derive(Debug)]
pub(crate) struct SlidingWindow {
    length: Duration,
    admitted: VecDeque<Instant>,
    max: u64,
    first: Option<Instant>,
    /// When the busiest window began, after the first admission: tells a
    /// start-up burst from one in steady running.
    max_began_after: Duration,
}

impl SlidingWindow {
    pub(crate) fn new(length: Duration) -> Self {
        Self {
            length,
            admitted: VecDeque::new(),
            max: 0,
            first: None,
            max_began_after: Duration::ZERO,
        }
    }

    /// Counts one admission at `now`. Windows are half-open, (now - length, now],
    /// so events exactly one window apart never share one; the maximum over all
    /// windows is reached at some admission, so checking at each is exact.
    pub(crate) fn admit(&mut self, now: Instant) {
        while let Some(oldest) = self.admitted.front() {
            if now.duration_since(*oldest) >= self.length {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
        self.admitted.push_back(now);
        let first = *self.first.get_or_insert(now);
        if self.admitted.len() as u64 > self.max {
            self.max = self.admitted.len() as u64;
            let began = self.admitted.front().copied().unwrap_or(now);
            self.max_began_after = began.duration_since(first);
        }
    }

    /// Forgets the busiest window so far: from now on `max` is the busiest
    /// window that begins after this moment, so a test can judge one phase.
    pub(crate) fn reset_max(&mut self) {
        self.admitted.clear();
        self.max = 0;
        self.first = None;
        self.max_began_after = Duration::ZERO;
    }

    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    /// How long after the first admission the busiest window began.
    pub(crate) fn max_began_after(&self) -> Duration {
        self.max_began_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_busiest_window_exactly() {
        let start = Instant::now();
        let mut window = SlidingWindow::new(Duration::from_secs(1));
        // Ten evenly spaced per second for three seconds: never more than ten.
        for i in 0..30 {
            window.admit(start + Duration::from_millis(i * 100));
        }
        assert_eq!(window.max(), 10);
        // A burst of five inside one window on top.
        for i in 0..5 {
            window.admit(start + Duration::from_millis(2_950 + i));
        }
        assert_eq!(window.max(), 15);
        assert_eq!(window.max_began_after(), Duration::from_millis(2_000));
        window.reset_max();
        assert_eq!(window.max(), 0);
        window.admit(start + Duration::from_millis(2_960));
        assert_eq!(window.max(), 1, "admissions before the reset do not count");
    }
}
