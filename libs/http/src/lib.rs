//! HTTP pieces every service shares, so each answers errors, auth, health and
//! metrics the same way.

mod api_keys;
mod auth;
mod metrics;
mod problem;
mod serve;

use axum::Router;
use axum::response::IntoResponse;

pub use api_keys::{ApiKeys, ApiKeysError, hash_key};
pub use auth::{presented_key, require_key};
pub use metrics::{metrics_handle, metrics_route, track_requests};
pub use problem::{FieldError, Problem};
pub use serve::{serve, shutdown_on_signal};

/// Answers unknown paths (404) and wrong methods (405) with problem+json too,
/// so a client never has to parse an empty error body.
pub fn with_problem_fallbacks(router: Router) -> Router {
    router
        .fallback(|| async { Problem::not_found("There is nothing at this path.").into_response() })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed().into_response() })
}
