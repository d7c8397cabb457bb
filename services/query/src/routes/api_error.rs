//! Why an API request failed, each case answered as problem+json here and
//! nowhere else: handlers return `Result<_, ApiError>` and use `?`.

use axum::response::{IntoResponse, Response};
use orch_http::{FieldError, Problem};

/// A failed API request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400: the request itself is malformed (query string, body, filter).
    #[error("{0}")]
    Malformed(String),
    /// 422: fields that parsed but are not acceptable, each named.
    #[error("invalid fields")]
    InvalidFields(Vec<FieldError>),
    /// 404: nothing under this id.
    #[error("{0}")]
    NotFound(String),
    /// 503: exports need an object store this deployment does not have.
    #[error("exports are off: no OBJECT_STORE_BUCKET")]
    ExportsOff,
    /// 503 when the database is unreachable, 500 for a row that cannot be
    /// read (logged once, with its cause chain, in `database_error`).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Malformed(detail) => Problem::malformed(detail).into_response(),
            Self::InvalidFields(errors) => Problem::invalid_fields(errors).into_response(),
            Self::NotFound(detail) => Problem::not_found(detail).into_response(),
            Self::ExportsOff => Problem::unavailable(
                "Exports are off in this deployment: the query service has no OBJECT_STORE_BUCKET.",
            )
            .into_response(),
            Self::Database(error) => crate::database_error::database_failed(&error),
        }
    }
}
