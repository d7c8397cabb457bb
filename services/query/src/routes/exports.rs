//! `/exports`: ask for an export, follow it, list the recent ones.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::exports::jobs::{self, JobView};
use crate::exports::request::{self, ExportRequest};
use crate::state::AppState;

/// How many jobs `GET /exports` lists.
const LISTED: i64 = 100;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/exports", get(list_exports).post(create_export))
        .route("/api/v1/exports", get(list_exports).post(create_export))
        .route("/exports/{id}", get(get_export))
        .route("/api/v1/exports/{id}", get(get_export))
        .route_layer(axum::middleware::from_fn_with_state(
            state.reader_keys.clone(),
            orch_http::require_key,
        ))
        .route_layer(axum::middleware::from_fn(orch_http::trace_requests))
        .with_state(state)
}

/// Export jobs, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ExportList {
    /// The newest 100 jobs.
    exports: Vec<JobView>,
}

fn exports_off() -> Response {
    Problem::unavailable(
        "Exports are off in this deployment: the query service has no OBJECT_STORE_BUCKET.",
    )
    .into_response()
}

/// Asks for an export of the events accepted in `[from, to)`; it runs in
/// the background. Follow it at the `Location` answered.
#[utoipa::path(
    post,
    path = "/exports",
    request_body = ExportRequest,
    responses(
        (status = 202, description = "The job, not started yet.", body = JobView,
         headers(("Location" = String, description = "Where to follow the job."))),
        (status = 400, description = "The body is not a JSON object.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown reader key.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad fields, each named.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Exports are off, or the database is unreachable.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])),
    tag = "exports"
)]
pub(crate) async fn create_export(
    State(state): State<AppState>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let Some(exports) = &state.exports else {
        return exports_off();
    };
    let body: Map<String, Value> = match body {
        Ok(Json(Value::Object(body))) => body,
        Ok(Json(_)) => {
            return Problem::malformed("The body must be a JSON object.").into_response();
        }
        Err(rejection) => return Problem::malformed(rejection.body_text()).into_response(),
    };
    let new = match request::parse(&body, exports.settings.export_max_range_days) {
        Ok(new) => new,
        Err(errors) => return Problem::invalid_fields(errors).into_response(),
    };
    let job = match jobs::create(&state.pool, &new).await {
        Ok(job) => job,
        Err(error) => return crate::database_error::database_failed(&error),
    };
    tracing::info!(job = %job.id, from = %new.from, to = %new.to, "Export asked for.");
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/exports/{}", job.id))],
        Json(job.view(None)),
    )
        .into_response()
}

/// One export job: its state, progress and, once finished, its file's URL.
#[utoipa::path(
    get,
    path = "/exports/{id}",
    params(("id" = String, Path, description = "The job's id.")),
    responses(
        (status = 200, description = "The job.", body = JobView),
        (status = 401, description = "No or unknown reader key.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Exports are off, or the database is unreachable.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])),
    tag = "exports"
)]
pub(crate) async fn get_export(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(exports) = &state.exports else {
        return exports_off();
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return Problem::not_found(format!("No export job {id:?}: job ids are UUIDs."))
            .into_response();
    };
    match jobs::find(&state.pool, id).await {
        Ok(Some(job)) => Json(exports.view(&job).await).into_response(),
        Ok(None) => Problem::not_found(format!("No export job {id}.")).into_response(),
        Err(error) => crate::database_error::database_failed(&error),
    }
}

/// The newest export jobs.
#[utoipa::path(
    get,
    path = "/exports",
    responses(
        (status = 200, description = "The newest 100 jobs.", body = ExportList),
        (status = 401, description = "No or unknown reader key.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Exports are off, or the database is unreachable.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])),
    tag = "exports"
)]
pub(crate) async fn list_exports(State(state): State<AppState>) -> Response {
    let Some(exports) = &state.exports else {
        return exports_off();
    };
    let recent = match jobs::recent(&state.pool, LISTED).await {
        Ok(recent) => recent,
        Err(error) => return crate::database_error::database_failed(&error),
    };
    let mut views = Vec::with_capacity(recent.len());
    for job in &recent {
        views.push(exports.view(job).await);
    }
    Json(ExportList { exports: views }).into_response()
}
