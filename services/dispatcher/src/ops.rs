use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde_json::json;

/// `/health`, `/ready` and `/metrics` for the dispatcher.
pub(crate) fn router(consuming: Arc<AtomicBool>) -> Router {
    orch_http::finish_router(
        Router::new()
            .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
            .route("/ready", get(ready))
            .with_state(consuming),
    )
}

/// Ready while the consumer loop runs.
async fn ready(State(consuming): State<Arc<AtomicBool>>) -> Response {
    if consuming.load(Ordering::Relaxed) {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        Problem::unavailable("The consumer is not running.").into_response()
    }
}
