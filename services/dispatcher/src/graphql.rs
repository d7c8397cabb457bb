use std::time::{Duration, Instant, SystemTime};

use orch_contracts::{ErrorKind, HEADER_CORRELATION_ID, HEADER_TRACEPARENT, HEADER_TRACESTATE};
use orch_kafka::RecordContext;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::header::RETRY_AFTER;
use serde_json::json;

use crate::classify::{Verdict, classify_response};
use crate::enrich::EnrichedEvent;
use crate::error::StartupError;

/// The one mutation we send. Event text only ever travels in `variables`, so no
/// event can change the query.
const CREATE_ITEM: &str = "mutation CreateItem($id: ID!, $name: String!, $body: String!, $timestamp: Int!, $brand: String!) { createItem(id: $id, name: $name, body: $body, timestamp: $timestamp, brand: $brand) { id } }";

/// Header values must be visible ASCII; ids may be any Unicode. Escaping `%` too
/// keeps the mapping from id to header value one-to-one.
const HEADER_UNSAFE: &AsciiSet = &CONTROLS.add(b'%').add(b' ');

/// One attempt's result.
#[derive(Debug)]
pub(crate) struct Attempt {
    pub(crate) verdict: Verdict,
    pub(crate) http_status: Option<u16>,
    pub(crate) latency: Duration,
}

/// Calls `createItem` on the target.
#[derive(Debug, Clone)]
pub(crate) struct TargetClient {
    http: reqwest::Client,
    /// Parsed once: parsing (with IDNA) on every request was measurable.
    url: reqwest::Url,
    token: Option<String>,
}

impl TargetClient {
    pub(crate) fn new(
        url: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, StartupError> {
        let url = reqwest::Url::parse(url).map_err(|error| {
            StartupError::Config(format!(
                "DISPATCHER_TARGET_URL {url:?} is not a URL: {error}"
            ))
        })?;
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self { http, url, token })
    }

    /// Sends one `createItem`, with the event id as idempotency key.
    /// `context` is the attempt span's: the target's own spans continue it,
    /// and its logs can carry the source's correlation id.
    pub(crate) async fn create_item(
        &self,
        event: &EnrichedEvent,
        context: &RecordContext,
    ) -> Attempt {
        let started = Instant::now();
        let mut request = self
            .http
            .post(self.url.clone())
            .header(
                "idempotency-key",
                utf8_percent_encode(&event.id, HEADER_UNSAFE).to_string(),
            )
            .header(HEADER_TRACEPARENT, context.trace.traceparent.as_str())
            .json(&json!({
                "query": CREATE_ITEM,
                "operationName": "CreateItem",
                "variables": event,
            }));
        if let Some(state) = &context.trace.tracestate {
            request = request.header(HEADER_TRACESTATE, state.as_str());
        }
        if let Some(id) = &context.correlation_id {
            request = request.header(HEADER_CORRELATION_ID, id.as_str());
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let (verdict, http_status) = match request.send().await {
            Err(error) => (transport_failure(&error), None),
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                match response.bytes().await {
                    Ok(body) => (
                        classify_response(status, retry_after.as_deref(), &body, SystemTime::now()),
                        Some(status),
                    ),
                    Err(error) => (transport_failure(&error), Some(status)),
                }
            }
        };
        Attempt {
            verdict,
            http_status,
            latency: started.elapsed(),
        }
    }
}

fn transport_failure(error: &reqwest::Error) -> Verdict {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    Verdict::Retry {
        kind,
        retry_after: None,
        message: describe(error),
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
