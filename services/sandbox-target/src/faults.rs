//! Fault injection: what the target does to a request besides answering it.
//! Set at start (`SANDBOX_FAULTS`, JSON) or at run time (`PUT /admin/faults`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::hostile::{Hostile, HostileAnswer};

/// The faults in force. Rates are shares of requests, 0.0 to 1.0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added latency, uniform between these bounds (ms).
    pub latency_min_ms: u64,
    /// Upper bound of the added latency (ms); below `latency_min_ms` means fixed.
    pub latency_max_ms: u64,
    /// Share of requests answered 503.
    pub error_rate: f64,
    /// Share answered 429 with `Retry-After` (counted apart from the real limit).
    pub rate_limited_rate: f64,
    /// Share never answered within `timeout_ms`.
    pub timeout_rate: f64,
    /// How long a "timed out" request hangs before the connection gets a 504.
    pub timeout_ms: u64,
    /// `createItem` ids answered 400 (poison).
    pub reject_ids: HashSet<String>,
    /// `createItem` ids starting with this are answered 400 (poison).
    pub reject_id_prefix: Option<String>,
    /// `createItem` ids answered 503 this many more times before one is
    /// taken (each answer spends one): an event that needs retries.
    pub flaky_ids: HashMap<String, u32>,
    /// Until this Unix time (ms), every `createItem` is answered 503, or
    /// `down_status` (a down window).
    pub down_until_ms: u64,
    /// The status a down window answers with, 400 to 599 (503 when absent).
    pub down_status: Option<u16>,
    /// A hostile answer for the next calls; kept with `count: 0` once spent.
    pub hostile: Option<Hostile>,
}

/// What a down window answers when `down_status` is absent.
const DOWN_STATUS: u16 = 503;

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer normally.
    None,
    /// The target is in a down window: answer with this status.
    Down(u16),
    /// A hostile answer (one of the `count` left).
    Hostile(HostileAnswer),
    /// 400 for a poison id.
    Reject,
    /// 503 by chance.
    ServerError,
    /// 429 by chance.
    RateLimited,
    /// Hang, then 504.
    Timeout,
}

impl Faults {
    /// Draws the fault for one `createItem` about `id`, spending one hostile
    /// answer if it gets one (hence `&mut`: the caller holds the faults' write
    /// lock, so two calls never take the same last answer).
    pub(crate) fn decide(
        &mut self,
        id: Option<&str>,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> (Duration, Fault) {
        let latency = if self.latency_max_ms > self.latency_min_ms {
            rng.gen_range(self.latency_min_ms..=self.latency_max_ms)
        } else {
            self.latency_min_ms
        };
        let latency = Duration::from_millis(latency);
        if now_ms < self.down_until_ms {
            return (
                latency,
                Fault::Down(self.down_status.unwrap_or(DOWN_STATUS)),
            );
        }
        if let Some(answer) = self.hostile.as_mut().and_then(Hostile::take) {
            return (latency, Fault::Hostile(answer));
        }
        if let Some(id) = id {
            let by_prefix = self
                .reject_id_prefix
                .as_deref()
                .is_some_and(|p| !p.is_empty() && id.starts_with(p));
            if by_prefix || self.reject_ids.contains(id) {
                return (latency, Fault::Reject);
            }
            if let Some(left) = self.flaky_ids.get_mut(id)
                && *left > 0
            {
                *left -= 1;
                return (latency, Fault::ServerError);
            }
        }
        let roll: f64 = rng.r#gen();
        let fault = if roll < self.error_rate {
            Fault::ServerError
        } else if roll < self.error_rate + self.rate_limited_rate {
            Fault::RateLimited
        } else if roll < self.error_rate + self.rate_limited_rate + self.timeout_rate {
            Fault::Timeout
        } else {
            Fault::None
        };
        (latency, fault)
    }

    /// Checks rates are shares, the down status is an error status, and the
    /// hostile answer is within its limits.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("rate_limited_rate", self.rate_limited_rate),
            ("timeout_rate", self.timeout_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if self.error_rate + self.rate_limited_rate + self.timeout_rate > 1.0 {
            return Err("error_rate + rate_limited_rate + timeout_rate must not exceed 1".into());
        }
        if let Some(status) = self.down_status
            && !(400..=599).contains(&status)
        {
            return Err(format!(
                "down_status must be between 400 and 599, got {status}"
            ));
        }
        if let Some(hostile) = &self.hostile {
            hostile.validate()?;
        }
        Ok(())
    }
}

/// Parses `SANDBOX_FAULTS`.
pub(crate) fn parse_faults(json: &str) -> Result<Faults, String> {
    let faults: Faults =
        serde_json::from_str(json).map_err(|e| format!("SANDBOX_FAULTS is not valid: {e}"))?;
    faults.validate()?;
    Ok(faults)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn shares_of_faults_match_the_configured_rates() {
        let mut faults = Faults {
            error_rate: 0.05,
            rate_limited_rate: 0.01,
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(7);
        let draws: Vec<Fault> = (0..100_000)
            .map(|_| faults.decide(Some("x"), 0, &mut rng).1)
            .collect();
        let share =
            |f: Fault| draws.iter().filter(|d| **d == f).count() as f64 / draws.len() as f64;
        assert!((share(Fault::ServerError) - 0.05).abs() < 0.005);
        assert!((share(Fault::RateLimited) - 0.01).abs() < 0.002);
        assert_eq!(share(Fault::Timeout), 0.0);
    }

    #[test]
    fn a_flaky_id_fails_its_counted_times_then_goes_through() {
        let mut faults = Faults {
            flaky_ids: [("twice".to_owned(), 2)].into(),
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(7);
        let mut draw = |id: &str| faults.decide(Some(id), 0, &mut rng).1;
        assert_eq!(draw("twice"), Fault::ServerError);
        assert_eq!(draw("other"), Fault::None, "only that id");
        assert_eq!(draw("twice"), Fault::ServerError);
        assert_eq!(draw("twice"), Fault::None);
        assert_eq!(draw("twice"), Fault::None);
    }

    #[test]
    fn poison_ids_and_down_windows_win_over_chance() {
        let mut faults = Faults {
            reject_id_prefix: Some("poison-".into()),
            reject_ids: HashSet::from(["bad".to_owned()]),
            down_until_ms: 1_000,
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            faults.decide(Some("poison-1"), 2_000, &mut rng).1,
            Fault::Reject
        );
        assert_eq!(faults.decide(Some("bad"), 2_000, &mut rng).1, Fault::Reject);
        assert_eq!(faults.decide(Some("good"), 2_000, &mut rng).1, Fault::None);
        assert_eq!(
            faults.decide(Some("good"), 999, &mut rng).1,
            Fault::Down(503)
        );
    }

    #[test]
    fn latency_is_drawn_within_bounds_and_rates_are_checked() {
        let mut faults = Faults {
            latency_min_ms: 5,
            latency_max_ms: 10,
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..1_000 {
            let (latency, _) = faults.decide(None, 0, &mut rng);
            assert!((5..=10).contains(&latency.as_millis()));
        }
        assert!(parse_faults(r#"{"error_rate": 1.5}"#).is_err());
        assert!(
            parse_faults(r#"{"eror_rate": 0.1}"#).is_err(),
            "unknown fields are refused"
        );
        assert_eq!(
            parse_faults(r#"{"error_rate": 0.05}"#).unwrap().error_rate,
            0.05
        );
    }

    #[test]
    fn a_down_window_answers_its_status_until_it_ends() {
        let mut faults = Faults {
            down_until_ms: 1_000,
            down_status: Some(401),
            error_rate: 1.0,
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(5);
        assert_eq!(faults.decide(Some("a"), 999, &mut rng).1, Fault::Down(401));
        assert_eq!(faults.decide(None, 0, &mut rng).1, Fault::Down(401));
        assert_eq!(
            faults.decide(Some("a"), 1_000, &mut rng).1,
            Fault::ServerError
        );
    }

    #[test]
    fn n_hostile_answers_go_to_the_next_n_calls_after_the_down_window() {
        let mut faults = Faults {
            down_until_ms: 1_000,
            reject_ids: HashSet::from(["bad".to_owned()]),
            error_rate: 1.0,
            hostile: Some(Hostile {
                answer: HostileAnswer::NotJson,
                count: 3,
            }),
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(9);
        // The down window wins and spends nothing.
        assert_eq!(faults.decide(Some("a"), 0, &mut rng).1, Fault::Down(503));
        let hostile = Fault::Hostile(HostileAnswer::NotJson);
        assert_eq!(faults.decide(Some("bad"), 2_000, &mut rng).1, hostile);
        assert_eq!(faults.decide(Some("a"), 2_000, &mut rng).1, hostile);
        assert_eq!(faults.decide(None, 2_000, &mut rng).1, hostile);
        assert_eq!(faults.hostile.as_ref().map(|h| h.count), Some(0));
        assert_eq!(faults.decide(Some("bad"), 2_000, &mut rng).1, Fault::Reject);
        assert_eq!(
            faults.decide(Some("a"), 2_000, &mut rng).1,
            Fault::ServerError
        );
    }

    #[test]
    fn bad_down_statuses_and_hostile_limits_are_refused() {
        for bad in [
            r#"{"down_status": 399}"#,
            r#"{"down_status": 600}"#,
            r#"{"down_status": 200}"#,
            r#"{"hostile": {"answer": {"kind": "not_json"}, "count": 1000001}}"#,
            r#"{"hostile": {"answer": {"kind": "slow_drip", "every_ms": 0}, "count": 1}}"#,
            r#"{"hostile": {"answer": {"kind": "slow_drip", "every_ms": 60001}, "count": 1}}"#,
            r#"{"hostile": {"answer": {"kind": "oversized", "bytes": 1073741825}, "count": 1}}"#,
        ] {
            assert!(parse_faults(bad).is_err(), "{bad} should be refused");
        }
        let faults = parse_faults(
            r#"{"down_status": 404, "hostile": {"answer": {"kind": "retry_after", "value": "-5"}, "count": 2}}"#,
        )
        .unwrap();
        assert_eq!(faults.down_status, Some(404));
        assert_eq!(
            faults.hostile,
            Some(Hostile {
                answer: HostileAnswer::RetryAfter { value: "-5".into() },
                count: 2
            })
        );
        // What `GET /admin/faults` shows can be put back as it is.
        let shown = serde_json::to_string(&faults).unwrap();
        assert_eq!(parse_faults(&shown).unwrap(), faults);
    }
}
