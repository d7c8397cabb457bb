//! HTTP routes, one resource per file.

mod events;
pub(crate) mod exports;
pub(crate) mod openapi;
mod ops;

use axum::Router;
use axum::response::{IntoResponse, Response};
use orch_http::Problem;

use crate::state::AppState;

/// The full router: the events API behind the reader key, and the open ops endpoints.
pub(crate) fn router(state: AppState) -> Router {
    orch_http::finish_router(
        Router::new()
            .merge(events::router(state.clone()))
            .merge(exports::router(state.clone()))
            .merge(crate::console::router(state.clone()))
            .merge(ops::router(state))
            .merge(orch_http::openapi_route(
                <openapi::QueryApi as utoipa::OpenApi>::openapi(),
            )),
    )
}

/// A 503 when Postgres cannot be reached or refused the query, which a retry
/// may mend; a 500 when a row could not be read, which is a bug to fix.
pub(crate) fn database_failed(error: &sqlx::Error) -> Response {
    log_database_error(error);
    match database_status(error) {
        Some(_) => {
            Problem::unavailable("The read model's database is unreachable; try again shortly.")
                .into_response()
        }
        None => Problem::internal().into_response(),
    }
}

/// 503 for a failure a retry may mend; `None` for a row that could not be
/// read (a bug: 500).
pub(crate) fn database_status(error: &sqlx::Error) -> Option<axum::http::StatusCode> {
    use sqlx::Error;
    match error {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::Database(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed => Some(axum::http::StatusCode::SERVICE_UNAVAILABLE),
        _ => None,
    }
}

/// Logs a database failure once: a warning for an outage, an error (a bug)
/// for a row that could not be read.
pub(crate) fn log_database_error(error: &sqlx::Error) {
    if database_status(error).is_some() {
        tracing::warn!(%error, "Database query failed.");
    } else {
        tracing::error!(%error, "A read model row could not be read.");
    }
}
