//! The ops endpoints: `/health`, `/ready` and `/metrics`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::{Problem, Watched};
use serde_json::json;

/// Ready while the bucket answers: without it nothing can be archived, and
/// the orchestrator should know (records wait safely in Kafka meanwhile).
pub(crate) fn router(store_reachable: Watched) -> Router {
    orch_http::finish_router(
        Router::new()
            .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
            .route("/ready", get(ready))
            .with_state(store_reachable),
    )
}

async fn ready(State(store_reachable): State<Watched>) -> Response {
    if store_reachable.get() {
        Json(json!({ "status": "ready", "object_store": "reachable" })).into_response()
    } else {
        Problem::unavailable("The object store does not answer; dead letters wait in Kafka.")
            .into_response()
    }
}
