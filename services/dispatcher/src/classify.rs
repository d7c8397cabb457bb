//! Turns a target response into a verdict: delivered, retry, or poison.
//! Pure, so every branch is unit-tested; a GraphQL 200 that carries `errors`
//! is judged by its body, not its status.

use std::time::{Duration, SystemTime};

use orch_contracts::ErrorKind;
use serde_json::Value;

/// Longest part of a response body kept in an error message.
const MAX_MESSAGE_CHARS: usize = 300;

/// GraphQL error codes that mean the request itself is wrong: retrying the same
/// event can never succeed.
const VALIDATION_CODES: &[&str] = &[
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "BAD_USER_INPUT",
    "BAD_REQUEST",
    "VALIDATION_ERROR",
];

/// GraphQL error codes that mean "slow down".
const RATE_LIMIT_CODES: &[&str] = &["RATE_LIMITED", "TOO_MANY_REQUESTS", "THROTTLED"];

/// What to do with an event after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The target holds the item.
    Delivered,
    /// May succeed later; wait at least `retry_after` if the target said so.
    Retry {
        /// Failure category.
        kind: ErrorKind,
        /// The target's `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// Detail for the status record.
        message: String,
    },
    /// Will never succeed as sent: dead-letter it now.
    Poison {
        /// Failure category.
        kind: ErrorKind,
        /// Detail for the status record and the dead letter.
        message: String,
    },
}

/// Judges an HTTP response from the target.
pub fn classify_response(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> Verdict {
    let retry_after = retry_after.and_then(|value| parse_retry_after(value, now));
    let retry = |kind, message: String| Verdict::Retry {
        kind,
        retry_after,
        message,
    };
    match status {
        429 => retry(
            ErrorKind::RateLimited,
            format!("HTTP 429: {}", snippet(body)),
        ),
        408 => retry(ErrorKind::Timeout, format!("HTTP 408: {}", snippet(body))),
        500..=599 => retry(
            ErrorKind::ServerError,
            format!("HTTP {status}: {}", snippet(body)),
        ),
        400..=499 => Verdict::Poison {
            kind: ErrorKind::ClientError,
            message: format!("HTTP {status}: {}", snippet(body)),
        },
        200..=299 => classify_graphql_body(body, retry_after),
        _ => retry(
            ErrorKind::ServerError,
            format!("unexpected HTTP {status}: {}", snippet(body)),
        ),
    }
}

fn classify_graphql_body(body: &[u8], retry_after: Option<Duration>) -> Verdict {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return Verdict::Retry {
            kind: ErrorKind::ServerError,
            retry_after,
            message: format!("response is not JSON: {}", snippet(body)),
        };
    };
    let errors = json
        .get("errors")
        .and_then(Value::as_array)
        .filter(|errors| !errors.is_empty());
    let Some(errors) = errors else {
        let created = json
            .pointer("/data/createItem")
            .is_some_and(|item| !item.is_null());
        return if created {
            Verdict::Delivered
        } else {
            Verdict::Retry {
                kind: ErrorKind::GraphqlError,
                retry_after,
                message: "response has neither data.createItem nor errors".into(),
            }
        };
    };
    let message = errors
        .iter()
        .filter_map(|error| error.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("; ");
    let message = truncate(&format!("GraphQL error: {message}"));
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|error| error.pointer("/extensions/code").and_then(Value::as_str))
        .collect();
    let rate_limited = codes.iter().any(|code| RATE_LIMIT_CODES.contains(code))
        || message.to_ascii_lowercase().contains("rate limit");
    if rate_limited {
        let hinted = errors
            .iter()
            .find_map(|error| {
                error
                    .pointer("/extensions/retryAfter")
                    .and_then(Value::as_f64)
            })
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(Duration::from_secs_f64);
        return Verdict::Retry {
            kind: ErrorKind::RateLimited,
            retry_after: retry_after.or(hinted),
            message,
        };
    }
    if codes.iter().any(|code| VALIDATION_CODES.contains(code)) {
        return Verdict::Poison {
            kind: ErrorKind::GraphqlError,
            message,
        };
    }
    // Unknown errors may be transient; retries are bounded, then dead-lettered.
    Verdict::Retry {
        kind: ErrorKind::GraphqlError,
        retry_after,
        message,
    }
}

/// Reads `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn snippet(body: &[u8]) -> String {
    truncate(String::from_utf8_lossy(body).trim())
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(status: u16, retry_after: Option<&str>, body: &str) -> Verdict {
        classify_response(status, retry_after, body.as_bytes(), SystemTime::UNIX_EPOCH)
    }

    fn kind(verdict: &Verdict) -> (&'static str, Option<ErrorKind>) {
        match verdict {
            Verdict::Delivered => ("delivered", None),
            Verdict::Retry { kind, .. } => ("retry", Some(*kind)),
            Verdict::Poison { kind, .. } => ("poison", Some(*kind)),
        }
    }

    #[test]
    fn created_item_is_delivered() {
        let verdict = judge(200, None, r#"{"data":{"createItem":{"id":"e1"}}}"#);
        assert_eq!(verdict, Verdict::Delivered);
    }

    #[test]
    fn http_statuses_are_sorted_into_retry_and_poison() {
        for (status, expected) in [
            (429, ("retry", Some(ErrorKind::RateLimited))),
            (408, ("retry", Some(ErrorKind::Timeout))),
            (500, ("retry", Some(ErrorKind::ServerError))),
            (503, ("retry", Some(ErrorKind::ServerError))),
            (400, ("poison", Some(ErrorKind::ClientError))),
            (401, ("poison", Some(ErrorKind::ClientError))),
            (404, ("poison", Some(ErrorKind::ClientError))),
            (422, ("poison", Some(ErrorKind::ClientError))),
            (302, ("retry", Some(ErrorKind::ServerError))),
        ] {
            assert_eq!(kind(&judge(status, None, "x")), expected, "HTTP {status}");
        }
    }

    #[test]
    fn graphql_errors_inside_200_are_judged_by_code() {
        let rate = judge(
            200,
            None,
            r#"{"data":null,"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED","retryAfter":2}}]}"#,
        );
        assert_eq!(kind(&rate), ("retry", Some(ErrorKind::RateLimited)));
        assert!(
            matches!(rate, Verdict::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(2))
        );

        let invalid = judge(
            200,
            None,
            r#"{"errors":[{"message":"Unknown argument","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#,
        );
        assert_eq!(kind(&invalid), ("poison", Some(ErrorKind::GraphqlError)));

        let unknown = judge(200, None, r#"{"data":null,"errors":[{"message":"boom"}]}"#);
        assert_eq!(kind(&unknown), ("retry", Some(ErrorKind::GraphqlError)));

        let by_message = judge(
            200,
            None,
            r#"{"errors":[{"message":"Rate limit exceeded"}]}"#,
        );
        assert_eq!(kind(&by_message), ("retry", Some(ErrorKind::RateLimited)));
    }

    #[test]
    fn odd_success_bodies_are_retried() {
        assert_eq!(
            kind(&judge(200, None, "<html>")),
            ("retry", Some(ErrorKind::ServerError))
        );
        assert_eq!(
            kind(&judge(200, None, r#"{"data":{"createItem":null}}"#)),
            ("retry", Some(ErrorKind::GraphqlError))
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        let verdict = classify_response(429, Some("5"), b"", now);
        assert!(
            matches!(verdict, Verdict::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(5))
        );
    }

    #[test]
    fn long_bodies_are_truncated_in_messages() {
        let body = "x".repeat(10_000);
        let Verdict::Poison { message, .. } = judge(400, None, &body) else {
            unreachable!("400 is poison");
        };
        assert!(message.chars().count() < 320);
    }
}
