use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde_json::json;

use crate::db;
use crate::startup::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/events/{id}", get(get_event))
        .route("/api/v1/events/{id}", get(get_event))
        .route_layer(axum::middleware::from_fn_with_state(
            state.reader_keys.clone(),
            orch_http::require_key,
        ))
        .with_state(state)
}

/// `GET /events/{id}`: the event, its status and its history.
async fn get_event(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let found = match db::find_event(&state.pool, &id).await {
        Ok(found) => found,
        Err(error) => return database_unavailable(&error),
    };
    let Some(event) = found else {
        return Problem::not_found(format!("No event with id {id:?} has been projected."))
            .into_response();
    };
    let history = match db::history(&state.pool, &id).await {
        Ok(history) => history,
        Err(error) => return database_unavailable(&error),
    };
    let mut body = json!(event);
    body["history"] = json!(history);
    Json(body).into_response()
}

fn database_unavailable(error: &sqlx::Error) -> Response {
    tracing::warn!(%error, "Database query failed.");
    Problem::unavailable("The read model's database is unreachable; try again shortly.")
        .into_response()
}
