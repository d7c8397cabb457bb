//! HTTP pieces every service shares, so each answers errors, auth, health and
//! metrics the same way.

mod api_keys;
mod auth;
mod metrics;
mod openapi;
mod problem;
mod readiness;
mod request_span;
mod serve;

use axum::Router;
use axum::response::IntoResponse;

pub use api_keys::{ApiKeys, ApiKeysError, hash_key};
pub use auth::{presented_key, require_key};
pub use metrics::{metrics_handle, metrics_route, register_build_info, track_requests};
pub use openapi::{BEARER_KEY, BearerKey, openapi_json, openapi_route};
pub use problem::{FieldError, Problem};
pub use readiness::Watched;
pub use request_span::{CORRELATION_ID_MAX_BYTES, correlation_id, trace_requests};
pub use serve::{ServerLimits, serve, shutdown_on_signal};

/// What every service's router ends with: `/metrics`, request metrics, and
/// problem+json for unknown paths (404) and wrong methods (405), so a client
/// never has to parse an empty error body.
pub fn finish_router(router: Router) -> Router {
    router
        .merge(metrics_route())
        .fallback(|| async { Problem::not_found("There is nothing at this path.").into_response() })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed().into_response() })
        .layer(axum::middleware::from_fn(track_requests))
}

/// The address a listener is bound to (the real port when asked for port 0).
pub fn bound_addr(listener: &tokio::net::TcpListener) -> std::net::SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
}
