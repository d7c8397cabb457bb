use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde_json::json;

use crate::startup::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .with_state(state)
}

/// Ready: the database answers.
async fn ready(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => Json(json!({ "status": "ready", "database": "reachable" })).into_response(),
        Err(_) => Problem::unavailable("The database is unreachable.").into_response(),
    }
}
