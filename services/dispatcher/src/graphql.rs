use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use orch_contracts::{HEADER_CORRELATION_ID, HEADER_TRACEPARENT, HEADER_TRACESTATE};
use orch_telemetry::EventContext;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::header::RETRY_AFTER;
use serde_json::json;

use crate::classify::{
    Limits, TransportFailure, Verdict, classify_oversized_body, classify_response,
    classify_transport,
};
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

/// How the client talks to the target, and what it takes from it.
#[derive(Debug, Clone)]
pub(crate) struct TargetSettings {
    pub(crate) url: String,
    pub(crate) token: Option<SecretString>,
    /// The whole request, body included, must finish within this.
    pub(crate) timeout: Duration,
    /// Longest response body read; the rest is never read.
    pub(crate) max_body_bytes: usize,
    pub(crate) limits: Limits,
}

/// Calls `createItem` on the target.
#[derive(Debug, Clone)]
pub(crate) struct TargetClient {
    http: reqwest::Client,
    /// Parsed once: parsing (with IDNA) on every request was measurable.
    url: reqwest::Url,
    token: Option<SecretString>,
    timeout: Duration,
    max_body_bytes: usize,
    limits: Limits,
}

impl TargetClient {
    pub(crate) fn new(settings: TargetSettings) -> Result<Self, StartupError> {
        let url = reqwest::Url::parse(&settings.url).map_err(|error| {
            StartupError::Config(format!(
                "DISPATCHER_TARGET_URL {:?} is not a URL: {error}",
                settings.url
            ))
        })?;
        // reqwest's timeout covers connecting, sending and reading the body,
        // so a slow-drip body ends as a timeout rather than a stuck task.
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()?;
        Ok(Self {
            http,
            url,
            token: settings.token,
            timeout: settings.timeout,
            max_body_bytes: settings.max_body_bytes,
            limits: settings.limits,
        })
    }

    /// Sends one `createItem`, with the event id as idempotency key.
    /// `context` is the attempt span's: the target's own spans continue it,
    /// and its logs can carry the source's correlation id.
    pub(crate) async fn create_item(
        &self,
        event: &EnrichedEvent,
        context: &EventContext,
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
            request = request.bearer_auth(token.expose_secret());
        }
        // reqwest enforces the deadline already; this outer one is the
        // guarantee that no answer, however it misbehaves, holds the task.
        let answered = tokio::time::timeout(self.timeout, self.send(request)).await;
        let (verdict, http_status) = answered.unwrap_or_else(|_| {
            let failure = TransportFailure {
                timeout: true,
                message: format!("no complete answer within {:?}", self.timeout),
                ..TransportFailure::default()
            };
            (classify_transport(failure), None)
        });
        Attempt {
            verdict,
            http_status,
            latency: started.elapsed(),
        }
    }

    /// Sends and reads at most `max_body_bytes` of the answer.
    async fn send(&self, request: reqwest::RequestBuilder) -> (Verdict, Option<u16>) {
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => return (transport_failure(&error), None),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_body_bytes {
                        let verdict = if (200..300).contains(&status) {
                            classify_oversized_body(status, self.max_body_bytes)
                        } else {
                            // A status says enough without its body.
                            let kept = self.max_body_bytes.saturating_sub(body.len());
                            body.extend_from_slice(&chunk[..kept.min(chunk.len())]);
                            self.judge(status, retry_after.as_deref(), &body)
                        };
                        return (verdict, Some(status));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) => return (transport_failure(&error), Some(status)),
            }
        }
        (
            self.judge(status, retry_after.as_deref(), &body),
            Some(status),
        )
    }

    fn judge(&self, status: u16, retry_after: Option<&str>, body: &[u8]) -> Verdict {
        classify_response(status, retry_after, body, SystemTime::now(), self.limits)
    }
}

fn transport_failure(error: &reqwest::Error) -> Verdict {
    classify_transport(TransportFailure {
        timeout: error.is_timeout(),
        connect: error.is_connect(),
        refused: refused(error),
        message: describe(error),
    })
}

/// Whether any cause in the chain is a refused connection.
fn refused(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = cause.source();
    }
    false
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
