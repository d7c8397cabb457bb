//! Fault injection: what the target does to a request besides answering it.
//! Set at start (`SANDBOX_FAULTS`, JSON) or at run time (`PUT /admin/faults`).

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};

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
    /// Until this Unix time (ms), every request is answered 503 (a down window).
    pub down_until_ms: u64,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer normally.
    None,
    /// 503, the target is in a down window.
    Down,
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
    /// Draws the fault for one request about `id` (when it is a `createItem`).
    pub(crate) fn decide(
        &self,
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
            return (latency, Fault::Down);
        }
        if let Some(id) = id {
            let by_prefix = self
                .reject_id_prefix
                .as_deref()
                .is_some_and(|p| !p.is_empty() && id.starts_with(p));
            if by_prefix || self.reject_ids.contains(id) {
                return (latency, Fault::Reject);
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

    /// Checks rates are shares.
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
        Ok(())
    }
}

/// Parses `SANDBOX_FAULTS`.
pub fn parse_faults(json: &str) -> Result<Faults, String> {
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
        let faults = Faults {
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
    fn poison_ids_and_down_windows_win_over_chance() {
        let faults = Faults {
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
        assert_eq!(faults.decide(Some("good"), 999, &mut rng).1, Fault::Down);
    }

    #[test]
    fn latency_is_drawn_within_bounds_and_rates_are_checked() {
        let faults = Faults {
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
}
