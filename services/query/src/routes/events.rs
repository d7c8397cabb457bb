use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};

use axum::routing::get;
use axum::{Json, Router};
use orch_contracts::Status;
use orch_http::Problem;
use serde::Serialize;
use std::collections::BTreeMap;

use super::api_error::ApiError;
use crate::db::{self, EventView, HistoryEntry};
use crate::listing::{self, ListParams};
use crate::state::AppState;

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
        .route_layer(axum::middleware::from_fn(orch_http::trace_requests))
        .with_state(state)
}

/// An event with every step it went through.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EventDetail {
    #[serde(flatten)]
    event: EventView,
    /// The event's trace in the trace backend, when a link template is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_url: Option<String>,
    /// Every status it reached, oldest first.
    history: Vec<HistoryEntry>,
}

/// One page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EventPage {
    /// Newest accepted first.
    events: Vec<EventView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// Projected events by status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StatusCounts {
    /// All projected events.
    total: i64,
    /// Events in each status, every status listed.
    by_status: BTreeMap<String, i64>,
    /// Records the projector quarantined (unreadable, or refused by
    /// Postgres): not in any count above; see `projection_quarantine`.
    quarantined: i64,
}

/// The event, its status and its history.
#[utoipa::path(
    get,
    path = "/events/{id}",
    params(("id" = String, Path, description = "The source's event id.")),
    responses(
        (status = 200, description = "The event.", body = EventDetail),
        (status = 401, description = "No or unknown reader key.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No event with this id has been projected.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A stored row could not be read (a bug; logged).", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])),
    tag = "events"
)]
pub(crate) async fn get_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let (event, history) = db::find_event(&state.pool, &id).await?.ok_or_else(|| {
        ApiError::NotFound(format!("No event with id {id:?} has been projected."))
    })?;
    let trace_url = state
        .trace_link
        .as_ref()
        .zip(event.trace_id.as_deref())
        .map(|(link, trace_id)| link.url(trace_id));
    Ok(Json(EventDetail {
        event,
        trace_url,
        history,
    }))
}

/// Events newest (or oldest) first, filtered by status, acceptance time,
/// correlation id, trace id, failure or text, a page at a time
/// (`next_cursor` fetches the next).
#[utoipa::path(
    get,
    path = "/events",
    params(ListParams),
    responses(
        (status = 200, description = "One page of events.", body = EventPage),
        (status = 400, description = "A bad filter, named.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown reader key.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A stored row could not be read (a bug; logged).", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])),
    tag = "events"
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let Query(params) = params.map_err(|rejection| {
        ApiError::Malformed(format!(
            "Bad query string: {}. Known parameters: status, from, to, correlation_id, trace_id, q, error_kind, http_status, sort, overdue, limit, cursor.",
            rejection.body_text()
        ))
    })?;
    let mut filter = params
        .filter()
        .map_err(|bad| ApiError::Malformed(format!("Bad filter `{bad}`.")))?;
    if filter.overdue {
        filter.overdue_cutoff = state.overdue.cutoff(time::OffsetDateTime::now_utc());
    }
    let mut events = db::list_events(&state.pool, &filter).await?;
    let next_cursor = listing::next_page(&mut events, filter.limit, filter.sort);
    Ok(Json(EventPage {
        events,
        next_cursor,
    }))
}

/// Projected events by status.
#[utoipa::path(
    get,
    path = "/stats",
    responses(
        (status = 200, description = "Counts by status.", body = StatusCounts),
        (status = 401, description = "No or unknown reader key.", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "A stored row could not be read (a bug; logged).", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])),
    tag = "events"
)]
pub(crate) async fn stats(State(state): State<AppState>) -> Result<Json<StatusCounts>, ApiError> {
    let counts = db::status_counts(&state.pool).await?;
    let quarantined = crate::projector::quarantined_count(&state.pool).await?;
    let mut by_status: BTreeMap<String, i64> = Status::ALL
        .iter()
        .map(|status| (status.as_str().to_owned(), 0))
        .collect();
    let mut total = 0;
    for (status, count) in counts {
        total += count;
        by_status.insert(status, count);
    }
    Ok(Json(StatusCounts {
        total,
        by_status,
        quarantined,
    }))
}
