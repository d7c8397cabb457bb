//! What arrived with each `createItem`, beside the item itself: the trace
//! context and correlation id, so a test can check they made it end to end.

use parking_lot::Mutex;
use std::collections::HashMap;

use axum::http::HeaderMap;
use orch_contracts::{HEADER_CORRELATION_ID, HEADER_TRACEPARENT};
use serde::Serialize;

/// The propagation headers of the latest `createItem` for one id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ReceivedHeaders {
    pub(crate) traceparent: Option<String>,
    pub(crate) correlation_id: Option<String>,
}

impl ReceivedHeaders {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            traceparent: text(HEADER_TRACEPARENT),
            correlation_id: text(HEADER_CORRELATION_ID),
        }
    }
}

/// The latest headers per id (one entry per item, like the items themselves).
#[derive(Debug, Default)]
pub(crate) struct Received(Mutex<HashMap<String, ReceivedHeaders>>);

impl Received {
    pub(crate) fn note(&self, id: String, headers: ReceivedHeaders) {
        self.0.lock().insert(id, headers);
    }

    pub(crate) fn get(&self, id: &str) -> Option<ReceivedHeaders> {
        self.0.lock().get(id).cloned()
    }
}
