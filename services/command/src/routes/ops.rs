use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde_json::json;

use crate::startup::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(state)
}

/// Alive: the process serves HTTP.
async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: a broker answers, so an accepted event can be made durable.
async fn ready(State(state): State<AppState>) -> Response {
    if state.publisher.broker_reachable().await {
        Json(json!({ "status": "ready", "kafka": "reachable" })).into_response()
    } else {
        Problem::unavailable("Kafka is unreachable.").into_response()
    }
}
