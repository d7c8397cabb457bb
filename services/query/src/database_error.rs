//! How a failed database call is answered over HTTP and logged, the same
//! way by the API's routes and the console's pages.

use axum::response::{IntoResponse, Response};
use orch_http::Problem;

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
        tracing::warn!(error = %orch_telemetry::error_chain(error), "Database query failed.");
    } else {
        tracing::error!(error = %orch_telemetry::error_chain(error), "A read model row could not be read.");
    }
}
