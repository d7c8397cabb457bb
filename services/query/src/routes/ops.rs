use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde_json::json;

use crate::state::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .with_state(state)
}

/// Ready: the database answered the last background probe (refreshed every
/// second, so a readiness probe never waits on the database).
async fn ready(State(state): State<AppState>) -> Response {
    if state.database_reachable.get() {
        Json(json!({ "status": "ready", "database": "reachable" })).into_response()
    } else {
        Problem::unavailable("The database is unreachable.").into_response()
    }
}
