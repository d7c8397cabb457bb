//! HTTP routes, one resource per file.

mod events;
mod ops;

use axum::Router;

use crate::startup::AppState;

/// The full router: the events API behind auth, and the open ops endpoints.
pub(crate) fn router(state: AppState) -> Router {
    orch_http::with_problem_fallbacks(Router::new())
        .merge(events::router(state.clone()))
        .merge(ops::router(state))
        .merge(orch_http::metrics_route())
        .layer(axum::middleware::from_fn(orch_http::track_requests))
}
