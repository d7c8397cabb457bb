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

/// GraphQL error codes that mean our credentials are refused: true of every
/// event, so the target is broken for us, not the event.
const CREDENTIAL_CODES: &[&str] = &["UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN"];

/// Bounds on what the target may ask of us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The longest wait a `Retry-After` or GraphQL `retryAfter` can impose.
    pub max_retry_after: Duration,
}

/// Why the target, rather than one event, is at fault: the answer would be
/// the same for every event, so delivery pauses (the circuit breaker opens)
/// and no event is dead-lettered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fault {
    /// 401 or 407, or a GraphQL `UNAUTHENTICATED`.
    Unauthorized,
    /// 403, or a GraphQL `FORBIDDEN`.
    Forbidden,
    /// 404, 405, 410 or 421: the URL is not the GraphQL endpoint.
    WrongUrl,
    /// Nothing listens at the target's address.
    ConnectionRefused,
    /// The target's host name does not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// A run of failures (5xx, timeouts, broken connections) across events.
    FailureRun,
}

impl Fault {
    /// Every fault, for registering metrics.
    pub(crate) const ALL: [Fault; 7] = [
        Fault::Unauthorized,
        Fault::Forbidden,
        Fault::WrongUrl,
        Fault::ConnectionRefused,
        Fault::Dns,
        Fault::Tls,
        Fault::FailureRun,
    ];

    /// A bounded name, fit for a metric label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Fault::Unauthorized => "unauthorized",
            Fault::Forbidden => "forbidden",
            Fault::WrongUrl => "wrong_url",
            Fault::ConnectionRefused => "connection_refused",
            Fault::Dns => "dns",
            Fault::Tls => "tls",
            Fault::FailureRun => "failure_run",
        }
    }

    /// What an operator should check.
    pub(crate) fn check(self) -> &'static str {
        match self {
            Fault::Unauthorized => "check DISPATCHER_TARGET_TOKEN (rotated or expired?)",
            Fault::Forbidden => {
                "check DISPATCHER_TARGET_TOKEN's permissions, or whether the target is in maintenance behind its proxy"
            }
            Fault::WrongUrl => "check DISPATCHER_TARGET_URL (path and method)",
            Fault::ConnectionRefused => {
                "check that the target is up and DISPATCHER_TARGET_URL's host and port"
            }
            Fault::Dns => "check DISPATCHER_TARGET_URL's host name and the cluster's DNS",
            Fault::Tls => "check the target's certificate and DISPATCHER_TARGET_URL's scheme",
            Fault::FailureRun => "check the target's health: it fails for every event",
        }
    }
}

/// What to do with an event after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The target holds the item.
    Delivered,
    /// May succeed later; wait at least `retry_after` if the target said so.
    Retry {
        /// Failure category.
        kind: ErrorKind,
        /// The target's `Retry-After`, clamped to `Limits::max_retry_after`.
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
    /// The target is broken for every event: keep this one and pause delivery.
    TargetBroken {
        /// Failure category, for the status record.
        kind: ErrorKind,
        /// Which fault.
        fault: Fault,
        /// Detail for the status record.
        message: String,
    },
}

impl Verdict {
    /// The failure's category and detail; `None` when delivered.
    pub(crate) fn failure(&self) -> Option<(ErrorKind, &str)> {
        match self {
            Verdict::Delivered => None,
            Verdict::Retry { kind, message, .. }
            | Verdict::Poison { kind, message }
            | Verdict::TargetBroken { kind, message, .. } => Some((*kind, message)),
        }
    }
}

/// Judges an HTTP response from the target.
///
/// The rule that tells "this event is bad" from "the target is broken":
/// an answer is about the event only when it could differ for another event.
/// Authentication (401, 407), authorisation (403) and addressing (404, 405,
/// 410, 421) answers are the same for every event, so they open the breaker;
/// other 4xx name the request we sent, so they dead-letter it; 408, 429 and
/// 5xx may pass later, so they retry.
pub(crate) fn classify_response(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now: SystemTime,
    limits: Limits,
) -> Verdict {
    let retry_after = retry_after
        .and_then(|value| parse_retry_after(value, now))
        .map(|wait| wait.min(limits.max_retry_after));
    let retry = |kind, message: String| Verdict::Retry {
        kind,
        retry_after,
        message,
    };
    let broken = |fault| Verdict::TargetBroken {
        kind: ErrorKind::ClientError,
        fault,
        message: format!("HTTP {status}: {}", snippet(body)),
    };
    match status {
        429 => retry(
            ErrorKind::RateLimited,
            format!("HTTP 429: {}", snippet(body)),
        ),
        408 => retry(ErrorKind::Timeout, format!("HTTP 408: {}", snippet(body))),
        401 | 407 => broken(Fault::Unauthorized),
        403 => broken(Fault::Forbidden),
        404 | 405 | 410 | 421 => broken(Fault::WrongUrl),
        500..=599 => retry(
            ErrorKind::ServerError,
            format!("HTTP {status}: {}", snippet(body)),
        ),
        400..=499 => Verdict::Poison {
            kind: ErrorKind::ClientError,
            message: format!("HTTP {status}: {}", snippet(body)),
        },
        200..=299 => classify_graphql_body(body, retry_after, limits),
        _ => retry(
            ErrorKind::ServerError,
            format!("unexpected HTTP {status}: {}", snippet(body)),
        ),
    }
}

/// Judges a 2xx body that was cut off at the size cap: it cannot be read,
/// so it may be a success we cannot see; retrying is safe (idempotent).
pub(crate) fn classify_oversized_body(status: u16, cap: usize) -> Verdict {
    Verdict::Retry {
        kind: ErrorKind::ServerError,
        retry_after: None,
        message: format!("HTTP {status}: response body is over the {cap}-byte cap"),
    }
}

fn classify_graphql_body(body: &[u8], retry_after: Option<Duration>, limits: Limits) -> Verdict {
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
    let has = |wanted: &[&str]| codes.iter().any(|code| wanted.contains(code));
    // Codes are the contract; message text is read only when there are none,
    // so a validation error that quotes "rate limit" stays poison.
    let rate_limited = has(RATE_LIMIT_CODES)
        || (codes.is_empty() && message.to_ascii_lowercase().contains("rate limit"));
    if rate_limited {
        let hinted = errors
            .iter()
            .find_map(|error| error.pointer("/extensions/retryAfter"))
            .and_then(|hint| retry_after_hint(hint, limits.max_retry_after));
        return Verdict::Retry {
            kind: ErrorKind::RateLimited,
            retry_after: retry_after.or(hinted),
            message,
        };
    }
    if has(VALIDATION_CODES) {
        return Verdict::Poison {
            kind: ErrorKind::GraphqlError,
            message,
        };
    }
    if has(CREDENTIAL_CODES) {
        let fault = if codes.contains(&"FORBIDDEN") {
            Fault::Forbidden
        } else {
            Fault::Unauthorized
        };
        return Verdict::TargetBroken {
            kind: ErrorKind::GraphqlError,
            fault,
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

/// A GraphQL `extensions.retryAfter` in seconds, clamped to `max`. Any JSON
/// number may arrive (1e308, -3, 0.5); only non-negative ones are honoured,
/// and one too large for a `Duration` is the maximum.
fn retry_after_hint(hint: &Value, max: Duration) -> Option<Duration> {
    let seconds = hint.as_f64().filter(|s| s.is_finite() && *s >= 0.0)?;
    Some(Duration::try_from_secs_f64(seconds).map_or(max, |wait| wait.min(max)))
}

/// Reads `Retry-After` as delay-seconds or an HTTP date. Unbounded: callers
/// clamp it. Anything else (negative, fractional, text) is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        // More digits than a u64 holds: absurdly far, so as far as allowed.
        return Some(Duration::MAX);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A failure before any HTTP status arrived, as reqwest reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TransportFailure {
    /// The request's deadline passed.
    pub timeout: bool,
    /// The connection could not be made.
    pub connect: bool,
    /// Some cause in the chain is a refused connection.
    pub refused: bool,
    /// The error and its causes on one line.
    pub message: String,
}

/// Judges a failure with no HTTP answer. Refused connections, unresolvable
/// names and failed TLS handshakes are true of every event; timeouts and
/// broken connections may pass on the next try.
pub(crate) fn classify_transport(failure: TransportFailure) -> Verdict {
    let lower = failure.message.to_ascii_lowercase();
    let fault = if failure.timeout {
        None
    } else if failure.refused {
        Some(Fault::ConnectionRefused)
    } else if failure.connect && (lower.contains("dns error") || lower.contains("lookup")) {
        Some(Fault::Dns)
    } else if failure.connect
        && (lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake"))
    {
        Some(Fault::Tls)
    } else {
        None
    };
    let message = truncate(&failure.message);
    match fault {
        Some(fault) => Verdict::TargetBroken {
            kind: ErrorKind::Network,
            fault,
            message,
        },
        None => Verdict::Retry {
            kind: if failure.timeout {
                ErrorKind::Timeout
            } else {
                ErrorKind::Network
            },
            retry_after: None,
            message,
        },
    }
}

fn snippet(body: &[u8]) -> String {
    truncate(String::from_utf8_lossy(&body[..body.len().min(4 * MAX_MESSAGE_CHARS)]).trim())
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

    const LIMITS: Limits = Limits {
        max_retry_after: Duration::from_secs(300),
    };

    fn judge(status: u16, retry_after: Option<&str>, body: &str) -> Verdict {
        classify_response(
            status,
            retry_after,
            body.as_bytes(),
            SystemTime::UNIX_EPOCH,
            LIMITS,
        )
    }

    fn kind(verdict: &Verdict) -> (&'static str, Option<ErrorKind>) {
        match verdict {
            Verdict::Delivered => ("delivered", None),
            Verdict::Retry { kind, .. } => ("retry", Some(*kind)),
            Verdict::Poison { kind, .. } => ("poison", Some(*kind)),
            Verdict::TargetBroken { kind, .. } => ("broken", Some(*kind)),
        }
    }

    fn waits(verdict: &Verdict) -> Option<Duration> {
        match verdict {
            Verdict::Retry { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn fault(verdict: &Verdict) -> Option<Fault> {
        match verdict {
            Verdict::TargetBroken { fault, .. } => Some(*fault),
            _ => None,
        }
    }

    #[test]
    fn created_item_is_delivered() {
        let verdict = judge(200, None, r#"{"data":{"createItem":{"id":"e1"}}}"#);
        assert_eq!(verdict, Verdict::Delivered);
    }

    #[test]
    fn http_statuses_are_sorted_into_retry_poison_and_target_broken() {
        for (status, expected) in [
            (429, ("retry", Some(ErrorKind::RateLimited))),
            (408, ("retry", Some(ErrorKind::Timeout))),
            (500, ("retry", Some(ErrorKind::ServerError))),
            (503, ("retry", Some(ErrorKind::ServerError))),
            (400, ("poison", Some(ErrorKind::ClientError))),
            (409, ("poison", Some(ErrorKind::ClientError))),
            (413, ("poison", Some(ErrorKind::ClientError))),
            (422, ("poison", Some(ErrorKind::ClientError))),
            (401, ("broken", Some(ErrorKind::ClientError))),
            (403, ("broken", Some(ErrorKind::ClientError))),
            (404, ("broken", Some(ErrorKind::ClientError))),
            (405, ("broken", Some(ErrorKind::ClientError))),
            (407, ("broken", Some(ErrorKind::ClientError))),
            (410, ("broken", Some(ErrorKind::ClientError))),
            (421, ("broken", Some(ErrorKind::ClientError))),
            (302, ("retry", Some(ErrorKind::ServerError))),
        ] {
            assert_eq!(kind(&judge(status, None, "x")), expected, "HTTP {status}");
        }
        assert_eq!(fault(&judge(401, None, "")), Some(Fault::Unauthorized));
        assert_eq!(fault(&judge(403, None, "")), Some(Fault::Forbidden));
        assert_eq!(fault(&judge(410, None, "")), Some(Fault::WrongUrl));
    }

    #[test]
    fn graphql_errors_inside_200_are_judged_by_code() {
        let rate = judge(
            200,
            None,
            r#"{"data":null,"errors":[{"message":"slow down","extensions":{"code":"RATE_LIMITED","retryAfter":2}}]}"#,
        );
        assert_eq!(kind(&rate), ("retry", Some(ErrorKind::RateLimited)));
        assert_eq!(waits(&rate), Some(Duration::from_secs(2)));

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

        let unauthenticated = judge(
            200,
            None,
            r#"{"errors":[{"message":"token expired","extensions":{"code":"UNAUTHENTICATED"}}]}"#,
        );
        assert_eq!(fault(&unauthenticated), Some(Fault::Unauthorized));
    }

    #[test]
    fn codes_are_read_before_message_text() {
        let quoted = judge(
            200,
            None,
            r#"{"errors":[{"message":"name must not mention the rate limit","extensions":{"code":"BAD_USER_INPUT"}}]}"#,
        );
        assert_eq!(kind(&quoted), ("poison", Some(ErrorKind::GraphqlError)));
    }

    #[test]
    fn odd_success_bodies_are_retried() {
        for body in [
            "<html>",
            "",
            r#"{"hello":"world"}"#,
            r#"{"data":{"createItem":null}}"#,
            "[1,2",
        ] {
            assert_eq!(kind(&judge(200, None, body)).0, "retry", "{body:?}");
        }
        assert_eq!(
            kind(&classify_oversized_body(200, 1024)),
            ("retry", Some(ErrorKind::ServerError))
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
        let verdict = classify_response(429, Some("5"), b"", now, LIMITS);
        assert_eq!(waits(&verdict), Some(Duration::from_secs(5)));
    }

    #[test]
    fn absurd_retry_after_values_are_clamped_or_ignored_never_a_panic() {
        let max = LIMITS.max_retry_after;
        for (value, expected) in [
            ("18446744073709551615", Some(max)),
            ("18446744073709551616", Some(max)),
            ("99999999999999999999999999999999", Some(max)),
            ("Fri, 31 Dec 9999 23:59:59 GMT", Some(max)),
            ("301", Some(max)),
            ("-5", None),
            ("1.5", None),
            ("", None),
            ("soon", None),
            ("\u{0}", None),
        ] {
            assert_eq!(waits(&judge(429, Some(value), "")), expected, "{value:?}");
        }
        for (hint, expected) in [
            ("1e20", Some(max)),
            ("1.7976931348623157e308", Some(max)),
            ("-3", None),
            ("0.5", Some(Duration::from_millis(500))),
            ("\"10\"", None),
        ] {
            let body = format!(
                r#"{{"errors":[{{"message":"m","extensions":{{"code":"RATE_LIMITED","retryAfter":{hint}}}}}]}}"#
            );
            assert_eq!(waits(&judge(200, None, &body)), expected, "{hint}");
        }
    }

    #[test]
    fn transport_failures_tell_a_broken_target_from_a_flaky_one() {
        let failure = |timeout, connect, refused, message: &str| {
            classify_transport(TransportFailure {
                timeout,
                connect,
                refused,
                message: message.into(),
            })
        };
        let refused = failure(
            false,
            true,
            true,
            "error sending request: Connection refused",
        );
        assert_eq!(fault(&refused), Some(Fault::ConnectionRefused));
        let dns = failure(
            false,
            true,
            false,
            "client error (Connect): dns error: failed to lookup address information",
        );
        assert_eq!(fault(&dns), Some(Fault::Dns));
        let tls = failure(
            false,
            true,
            false,
            "client error (Connect): invalid peer certificate: UnknownIssuer",
        );
        assert_eq!(fault(&tls), Some(Fault::Tls));
        let timeout = failure(true, true, false, "operation timed out");
        assert_eq!(kind(&timeout), ("retry", Some(ErrorKind::Timeout)));
        let reset = failure(
            false,
            false,
            false,
            "error decoding response body: connection reset by peer",
        );
        assert_eq!(kind(&reset), ("retry", Some(ErrorKind::Network)));
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
