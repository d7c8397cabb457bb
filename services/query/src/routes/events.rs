use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_contracts::Status;
use orch_http::Problem;
use serde_json::json;

use crate::db;
use crate::listing::{Cursor, ListParams};
use crate::startup::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/events", get(list_events))
        .route("/api/v1/events", get(list_events))
        .route("/events/{id}", get(get_event))
        .route("/api/v1/events/{id}", get(get_event))
        .route("/stats", get(stats))
        .route("/api/v1/stats", get(stats))
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

/// `GET /events`: events newest first, filtered by status and acceptance
/// time, a page at a time (`next_cursor` fetches the next).
async fn list_events(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(rejection) => {
            return Problem::malformed(format!(
                "Bad query string: {}. Known parameters: status, from, to, limit, cursor.",
                rejection.body_text()
            ))
            .into_response();
        }
    };
    let filter = match params.filter() {
        Ok(filter) => filter,
        Err(bad) => return Problem::malformed(format!("Bad filter `{bad}`.")).into_response(),
    };
    let mut events = match db::list_events(&state.pool, &filter).await {
        Ok(events) => events,
        Err(error) => return database_unavailable(&error),
    };
    let limit = usize::try_from(filter.limit).unwrap_or(usize::MAX);
    let next_cursor = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().and_then(|last| {
            last.accepted_at.map(|accepted_at| {
                Cursor {
                    accepted_at,
                    id: last.id.clone(),
                }
                .encode()
            })
        })
    });
    Json(json!({ "events": events, "next_cursor": next_cursor.flatten() })).into_response()
}

/// `GET /stats`: projected events by status.
async fn stats(State(state): State<AppState>) -> Response {
    let counts = match db::status_counts(&state.pool).await {
        Ok(counts) => counts,
        Err(error) => return database_unavailable(&error),
    };
    let mut by_status = serde_json::Map::new();
    for status in Status::ALL {
        by_status.insert(status.as_str().to_owned(), json!(0));
    }
    let mut total = 0;
    for (status, count) in counts {
        total += count;
        by_status.insert(status, json!(count));
    }
    Json(json!({ "total": total, "by_status": by_status })).into_response()
}

fn database_unavailable(error: &sqlx::Error) -> Response {
    tracing::warn!(%error, "Database query failed.");
    Problem::unavailable("The read model's database is unreachable; try again shortly.")
        .into_response()
}
