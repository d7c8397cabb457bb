//! Why a console request failed, shown as a page a person can read, with
//! the HTTP status a script or test can check.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::page;

/// A console request that could not be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConsoleError {
    /// The person may not do this (a reader acting, a stale or foreign form).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// A form or filter field is wrong; the message names it.
    #[error("{0}")]
    BadInput(String),
    /// Something the console needs is off or unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// The read model's database failed.
    #[error("the read model's database failed")]
    Database(#[from] sqlx::Error),
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadInput(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(error) => match crate::database_error::database_status(error) {
                Some(status) => status,
                None => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Database(error) => {
                crate::database_error::log_database_error(error);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    "The read model's database is unreachable; try again shortly.".to_owned()
                } else {
                    "A stored row could not be read; this is a bug and has been logged.".to_owned()
                }
            }
            other => other.to_string(),
        };
        let title = status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (title) }
            p.error role="alert" { (message) }
            p { a href="/console" { "Back to the console" } }
        };
        (status, page::bare(title, body)).into_response()
    }
}
