//! Why `POST /events` did not answer 202, each case answered as
//! problem+json here and nowhere else.

use axum::response::{IntoResponse, Response};
use orch_http::Problem;

/// A request that was not accepted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// The request itself is wrong (too large, not JSON, bad fields): the
    /// problem `intake` named, 400, 413, 415 or 422.
    #[error("refused: {}", .0.detail)]
    Refused(Problem),
    /// Neither Kafka nor the spool confirmed it within the request deadline.
    #[error("not durable within the request deadline")]
    NotDurableInTime,
    /// Neither Kafka nor the spool would take it.
    #[error("not durable")]
    NotDurable,
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(problem) => problem.into_response(),
            Self::NotDurableInTime => Problem::unavailable(
                "The event was not confirmed durable in time, so it is not accepted; it may still arrive, and sending it again is safe (the id makes a repeat harmless).",
            )
            .into_response(),
            Self::NotDurable => Problem::unavailable(
                "The event could not be made durable, so it was not accepted; send it again later.",
            )
            .into_response(),
        }
    }
}
