//! The rate limit's ledger of when requests may have reached the target.
//!
//! The pacer spaces sends so that a 1 s window holds at most the rate even
//! when arrivals lag sends by up to its jitter allowance. A request held up
//! longer — the target (or the path to it) stalling for 75 ms — arrives later
//! than that, bunched with the ones after it, and a window at the target
//! then holds more than the rate (1,049 at 1,000/s was measured). The
//! ledger counts each request at the latest moment it may have arrived: a
//! request in flight may arrive now, and an answered one arrived no later
//! than its answer less the quickest recent round trip (the part of a round
//! trip every answer takes), and no earlier than it was sent. The pacer
//! releases a send only while the requests counted in the last second leave
//! room for it, so no 1 s window at the target holds more than the rate,
//! whatever the delays. Normally answered requests count at their send, so
//! in steady state the ledger does not slow the pacer.

use std::time::Duration;

use tokio::time::Instant;

/// The window the limit is kept over, in whole milliseconds: both ends
/// included, as a target counting "the last second" may.
const WINDOW_MS: u64 = 1_000;
/// The quickest round trip is the least seen in the current period of this
/// length and the one before, so a stall (every round trip long for a
/// while) does not raise it before it has passed.
const ROUND_TRIP_PERIOD: Duration = Duration::from_secs(5);

/// Requests counted by the millisecond they may have arrived in, over the
/// last `WINDOW_MS`, plus those still in flight.
#[derive(Debug)]
pub(crate) struct ArrivalLedger {
    base: Instant,
    /// Arrivals per millisecond, a ring of `WINDOW_MS + 1` slots.
    counts: Vec<u32>,
    /// The newest millisecond the ring has been advanced to.
    head_ms: u64,
    /// The sum of `counts`.
    counted: u64,
    in_flight: u64,
    /// The quickest round trip in this period, and in the one before.
    quickest_now: Duration,
    quickest_before: Duration,
    period_start: Instant,
}

impl ArrivalLedger {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            base: now,
            counts: vec![0; WINDOW_MS as usize + 1],
            head_ms: 0,
            counted: 0,
            in_flight: 0,
            // No floor until a period of answers is seen: count at the answer.
            quickest_now: Duration::MAX,
            quickest_before: Duration::ZERO,
            period_start: now,
        }
    }

    fn ms(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_millis()).unwrap_or(u64::MAX)
    }

    fn slot(&self, ms: u64) -> usize {
        (ms % self.counts.len() as u64) as usize
    }

    /// Moves the window's end to `now`, forgetting what left it.
    fn advance(&mut self, now: Instant) {
        let now_ms = self.ms(now);
        if now_ms <= self.head_ms {
            return;
        }
        // A gap longer than the ring clears all of it.
        let from = self
            .head_ms
            .max(now_ms.saturating_sub(self.counts.len() as u64))
            + 1;
        for ms in from..=now_ms {
            let slot = self.slot(ms);
            self.counted -= u64::from(self.counts[slot]);
            self.counts[slot] = 0;
        }
        self.head_ms = now_ms;
    }

    /// Whether a request sent now keeps every window within `limit`.
    pub(crate) fn has_room(&mut self, now: Instant, limit: f64) -> bool {
        self.advance(now);
        let limit = limit.floor().max(1.0) as u64;
        self.counted + self.in_flight < limit
    }

    /// A request leaves now.
    pub(crate) fn sent(&mut self) {
        self.in_flight += 1;
    }

    /// A send released but not taken: nothing left.
    pub(crate) fn withdrawn(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// The request sent at `sent` is answered (or given up) at `now`.
    pub(crate) fn answered(&mut self, sent: Instant, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let round_trip = now.saturating_duration_since(sent);
        if now.saturating_duration_since(self.period_start) >= ROUND_TRIP_PERIOD {
            self.quickest_before = self.quickest_now;
            self.quickest_now = Duration::MAX;
            self.period_start = now;
        }
        self.quickest_now = self.quickest_now.min(round_trip);
        let quickest = self.quickest_now.min(self.quickest_before);
        let latest_arrival = now.checked_sub(quickest).unwrap_or(now).max(sent);
        self.advance(now);
        // Never ahead of the ring's end: a slot there would be cleared later.
        let at_ms = self.ms(latest_arrival).min(self.head_ms);
        if at_ms + WINDOW_MS >= self.head_ms {
            let slot = self.slot(at_ms);
            self.counts[slot] += 1;
            self.counted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_count_for_a_second_and_requests_in_flight_until_answered() {
        let start = Instant::now();
        let mut ledger = ArrivalLedger::new(start);
        for _ in 0..3 {
            ledger.sent();
        }
        assert!(
            !ledger.has_room(start, 3.0),
            "three in flight fill a limit of 3"
        );
        ledger.answered(start, start);
        ledger.answered(start, start);
        assert!(
            !ledger.has_room(start, 3.0),
            "answered now, they still count"
        );
        let later = start + Duration::from_millis(WINDOW_MS);
        assert!(
            !ledger.has_room(later, 3.0),
            "a second later, both ends count"
        );
        ledger.answered(start, later);
        assert!(ledger.has_room(later + Duration::from_millis(1), 3.0));
        assert!(
            ledger.has_room(later + Duration::from_secs(60), 1.0),
            "a long quiet spell empties the ring"
        );
    }

    #[test]
    fn a_request_held_up_counts_from_its_answer_less_the_quickest_round_trip() {
        let start = Instant::now();
        let mut ledger = ArrivalLedger::new(start);
        // Quick answers over a period set a 2 ms floor.
        for i in 0..=ROUND_TRIP_PERIOD.as_millis() as u64 / 100 {
            let sent = start + Duration::from_millis(i * 100);
            ledger.sent();
            ledger.answered(sent, sent + Duration::from_millis(2));
        }
        // A stall: a run of slow answers does not raise the floor.
        let stall = start + ROUND_TRIP_PERIOD + Duration::from_millis(100);
        for i in 0..100 {
            let sent = stall + Duration::from_millis(i);
            ledger.sent();
            ledger.answered(sent, sent + Duration::from_millis(200));
        }
        // One request sent then is answered 500 ms later: it counts as
        // arriving 2 ms before its answer, so it is still counted 1.4 s
        // after it left.
        let sent = stall + Duration::from_millis(400);
        ledger.sent();
        ledger.answered(sent, sent + Duration::from_millis(500));
        let check = sent + Duration::from_millis(1_400);
        assert!(!ledger.has_room(check, 1.0));
        assert!(ledger.has_room(check + Duration::from_millis(100), 1.0));
    }
}
