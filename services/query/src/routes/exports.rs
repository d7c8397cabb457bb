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

use super::api_error::ApiError;
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
) -> Result<Response, ApiError> {
    let exports = state.exports.as_ref().ok_or(ApiError::ExportsOff)?;
    let body: Map<String, Value> = match body {
        Ok(Json(Value::Object(body))) => body,
        Ok(Json(_)) => {
            return Err(ApiError::Malformed(
                "The body must be a JSON object.".into(),
            ));
        }
        Err(rejection) => return Err(ApiError::Malformed(rejection.body_text())),
    };
    let new = request::parse(&body, exports.settings.export_max_range_days)
        .map_err(ApiError::InvalidFields)?;
    let job = jobs::create(&state.pool, &new).await?;
    tracing::info!(job = %job.id, from = %new.from, to = %new.to, "Export asked for.");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/exports/{}", job.id))],
        Json(job.view(None)),
    )
        .into_response())
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
pub(crate) async fn get_export(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let exports = state.exports.as_ref().ok_or(ApiError::ExportsOff)?;
    let Ok(id) = Uuid::parse_str(&id) else {
        return Err(ApiError::NotFound(format!(
            "No export job {id:?}: job ids are UUIDs."
        )));
    };
    let job = jobs::find(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("No export job {id}.")))?;
    Ok(Json(exports.view(&job).await))
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
pub(crate) async fn list_exports(
    State(state): State<AppState>,
) -> Result<Json<ExportList>, ApiError> {
    let exports = state.exports.as_ref().ok_or(ApiError::ExportsOff)?;
    let recent = jobs::recent(&state.pool, LISTED).await?;
    let mut views = Vec::with_capacity(recent.len());
    for job in &recent {
        views.push(exports.view(job).await);
    }
    Ok(Json(ExportList { exports: views }))
}
