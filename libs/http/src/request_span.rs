//! One server span per API request, continuing the caller's W3C trace, with
//! the caller's correlation id on it so every log line of the request has it.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use orch_contracts::HEADER_CORRELATION_ID;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::Problem;

/// The longest `X-Correlation-Id` kept, in bytes.
pub const CORRELATION_ID_MAX_BYTES: usize = 128;

/// Middleware wrapping each request in a span named `METHOD /route`.
pub async fn trace_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let span = tracing::info_span!(
        "http_request",
        otel.name = %format_args!("{} {route}", request.method()),
        otel.kind = "server",
        http.request.method = %request.method(),
        http.route = route,
        http.response.status_code = Empty,
        correlation_id = Empty,
    );
    orch_telemetry::continue_trace(&span, &orch_telemetry::HeaderExtractor(request.headers()));
    if let Ok(Some(id)) = correlation_id(request.headers()) {
        span.record("correlation_id", id);
    }
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

/// The caller's `X-Correlation-Id`: `None` when absent, a 400 problem when it
/// is not 1 to 128 visible ASCII characters (it ends up in logs and headers,
/// so spaces, control bytes and non-ASCII are refused rather than mangled).
pub fn correlation_id(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get(HEADER_CORRELATION_ID) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let visible = bytes.iter().all(|byte| (0x21..=0x7e).contains(byte));
    if bytes.is_empty() || bytes.len() > CORRELATION_ID_MAX_BYTES || !visible {
        return Err(Problem::malformed(format!(
            "X-Correlation-Id must be 1 to {CORRELATION_ID_MAX_BYTES} visible ASCII characters."
        )));
    }
    Ok(value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            HEADER_CORRELATION_ID,
            axum::http::HeaderValue::from_bytes(value).unwrap(),
        );
        headers
    }

    #[test]
    fn correlation_ids_are_kept_or_refused_with_the_rule() {
        assert_eq!(correlation_id(&HeaderMap::new()).unwrap(), None);
        assert_eq!(
            correlation_id(&with(b"order-7/step:2")).unwrap(),
            Some("order-7/step:2")
        );
        let longest = vec![b'a'; CORRELATION_ID_MAX_BYTES];
        assert!(correlation_id(&with(&longest)).unwrap().is_some());
        for bad in [&b""[..], b"has space", b"caf\xc3\xa9", &[b'a'; 129][..]] {
            let problem = correlation_id(&with(bad)).unwrap_err();
            assert!(problem.detail.contains("X-Correlation-Id"), "{bad:?}");
        }
    }
}
