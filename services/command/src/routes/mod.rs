//! HTTP routes, one resource per file.

mod events;
mod ingest_error;
pub(crate) mod openapi;
mod ops;

use axum::Router;

use crate::state::AppState;

/// The full router: the events API behind auth, and the open ops endpoints.
pub(crate) fn router(state: AppState) -> Router {
    orch_http::finish_router(
        Router::new()
            .merge(events::router(state.clone()))
            .merge(ops::router(state))
            .merge(orch_http::openapi_route(
                <openapi::CommandApi as utoipa::OpenApi>::openapi(),
            )),
    )
}
