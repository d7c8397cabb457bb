//! Hostile answers: for the next `count` `createItem` calls, an answer a
//! careless client mishandles (odd `Retry-After`s, endless or huge bodies, a
//! cut connection, bodies that are not GraphQL). This file is the JSON shape
//! and its limits; `render` turns an answer into a response.

mod render;

pub(crate) use render::render;

use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Most calls one hostile fault may cover.
const MAX_COUNT: u64 = 1_000_000;
/// Slowest drip allowed, in ms between bytes.
const MAX_DRIP_EVERY_MS: u64 = 60_000;
/// Largest oversized body allowed: big enough to break any sane body cap,
/// small enough not to tie the sandbox up for minutes.
const MAX_OVERSIZED_BYTES: u64 = 1 << 30;

/// A hostile answer given to the next `count` `createItem` calls, before the
/// poison ids and the random faults (a down window still comes first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hostile {
    /// What those calls are answered with.
    pub answer: HostileAnswer,
    /// How many calls are left to answer so; 0 means spent. Required: a
    /// `count` misplaced inside `answer` is then refused rather than ignored
    /// (serde lets extra fields through on the field-less kinds).
    pub count: u64,
}

/// One kind of hostile answer; none of them stores the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HostileAnswer {
    /// 429 with this exact `Retry-After` header value (any valid header
    /// value, e.g. "18446744073709551615", "-5", "soon",
    /// "Fri, 31 Dec 9999 23:59:59 GMT").
    RetryAfter {
        /// The header value, sent verbatim.
        value: String,
    },
    /// 200 with a GraphQL `RATE_LIMITED` error whose `extensions.retryAfter`
    /// is this JSON text, written verbatim (so "1e20" stays `1e20`). Meant
    /// for numbers ("1e20", "-3", "1.5"), but any JSON value is accepted.
    GraphqlRetryAfter {
        /// The JSON text of `retryAfter`.
        value: String,
    },
    /// 200 whose body trickles one byte every `every_ms`: a body that never
    /// finishes within any sane deadline.
    SlowDrip {
        /// Body length (100 000 when absent).
        #[serde(default = "drip_bytes")]
        bytes: u64,
        /// Pause between bytes, 1 to 60 000 ms (100 when absent).
        #[serde(default = "drip_every_ms")]
        every_ms: u64,
    },
    /// 200 with a body of JSON-looking filler, streamed in 64 KiB chunks
    /// without a `Content-Length`, so only a cap while reading stops it.
    Oversized {
        /// Body length, at most 1 GiB (8 MiB when absent).
        #[serde(default = "oversized_bytes")]
        bytes: u64,
    },
    /// 200 with a `text/html` body.
    NotJson,
    /// 200 announcing a `Content-Length` of 1000, then 10 bytes, then the
    /// connection is cut.
    ResetMidBody,
    /// 200 whose JSON has neither `data` nor `errors`.
    NoDataNoErrors,
}

fn drip_bytes() -> u64 {
    100_000
}

fn drip_every_ms() -> u64 {
    100
}

fn oversized_bytes() -> u64 {
    8 << 20
}

impl Hostile {
    /// Takes the answer for one call, or `None` when the fault is spent.
    pub(crate) fn take(&mut self) -> Option<HostileAnswer> {
        self.count = self.count.checked_sub(1)?;
        Some(self.answer.clone())
    }

    /// Checks the limits, and that the answer can be sent as asked.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.count > MAX_COUNT {
            return Err(format!(
                "hostile.count must be at most {MAX_COUNT}, got {}",
                self.count
            ));
        }
        match &self.answer {
            HostileAnswer::RetryAfter { value } => {
                // Checked here so rendering never meets a value it cannot send.
                HeaderValue::from_str(value).map_err(|_| {
                    format!("retry_after value {value:?} is not a valid header value")
                })?;
            }
            HostileAnswer::GraphqlRetryAfter { value } => {
                // Checked so the body stays JSON: the hostile part is the value.
                serde_json::from_str::<&RawValue>(value)
                    .map_err(|_| format!("graphql_retry_after value {value:?} is not JSON"))?;
            }
            HostileAnswer::SlowDrip { every_ms, .. } => {
                if !(1..=MAX_DRIP_EVERY_MS).contains(every_ms) {
                    return Err(format!(
                        "slow_drip every_ms must be between 1 and {MAX_DRIP_EVERY_MS}, got {every_ms}"
                    ));
                }
            }
            HostileAnswer::Oversized { bytes } => {
                if *bytes > MAX_OVERSIZED_BYTES {
                    return Err(format!(
                        "oversized bytes must be at most {MAX_OVERSIZED_BYTES}, got {bytes}"
                    ));
                }
            }
            HostileAnswer::NotJson
            | HostileAnswer::ResetMidBody
            | HostileAnswer::NoDataNoErrors => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Hostile, String> {
        let hostile: Hostile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        hostile.validate()?;
        Ok(hostile)
    }

    #[test]
    fn absent_fields_take_their_defaults() {
        assert_eq!(
            parse(r#"{"answer": {"kind": "slow_drip"}, "count": 1}"#),
            Ok(Hostile {
                answer: HostileAnswer::SlowDrip {
                    bytes: 100_000,
                    every_ms: 100
                },
                count: 1
            })
        );
        assert_eq!(
            parse(r#"{"answer": {"kind": "oversized"}, "count": 3}"#).map(|h| h.answer),
            Ok(HostileAnswer::Oversized { bytes: 8 << 20 })
        );
    }

    #[test]
    fn values_that_cannot_be_sent_and_limits_are_refused() {
        for bad in [
            r#"{"answer": {"kind": "retry_after", "value": "a\nb"}, "count": 1}"#,
            r#"{"answer": {"kind": "graphql_retry_after", "value": "1e"}, "count": 1}"#,
            r#"{"answer": {"kind": "graphql_retry_after", "value": "1, \"x\": 2"}, "count": 1}"#,
            r#"{"answer": {"kind": "slow_drip", "every_ms": 0}, "count": 1}"#,
            r#"{"answer": {"kind": "slow_drip", "every_ms": 60001}, "count": 1}"#,
            r#"{"answer": {"kind": "oversized", "bytes": 1073741825}, "count": 1}"#,
            r#"{"answer": {"kind": "not_json"}, "count": 1000001}"#,
            r#"{"answer": {"kind": "not_json"}, "count": 1, "cuont": 1}"#,
            r#"{"answer": {"kind": "slow_drip", "byts": 1}, "count": 1}"#,
            r#"{"answer": {"kind": "teapot"}, "count": 1}"#,
            r#"{"answer": {"kind": "not_json", "count": 2}}"#,
            r#"{"answer": {"kind": "retry_after", "value": "1", "extra": 1}, "count": 1}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
        for good in [
            r#"{"answer": {"kind": "retry_after", "value": "Fri, 31 Dec 9999 23:59:59 GMT"}, "count": 1}"#,
            r#"{"answer": {"kind": "graphql_retry_after", "value": "1e400"}, "count": 1}"#,
            r#"{"answer": {"kind": "slow_drip", "every_ms": 60000}, "count": 1}"#,
            r#"{"answer": {"kind": "oversized", "bytes": 1073741824}, "count": 1000000}"#,
        ] {
            assert!(parse(good).is_ok(), "{good} should be accepted");
        }
    }

    #[test]
    fn each_take_spends_one_until_none_are_left() {
        let mut hostile = Hostile {
            answer: HostileAnswer::NotJson,
            count: 2,
        };
        assert_eq!(hostile.take(), Some(HostileAnswer::NotJson));
        assert_eq!(hostile.take(), Some(HostileAnswer::NotJson));
        assert_eq!(hostile.take(), None);
        assert_eq!(hostile.count, 0);
    }
}
