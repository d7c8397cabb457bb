//! HTTP routes, one resource per file.

mod api_error;
mod events;
pub(crate) mod exports;
pub(crate) mod openapi;
mod ops;

use axum::Router;
use axum::extract::FromRef;

use crate::state::AppState;

/// The full router: the events API behind the reader key, and the open ops endpoints.
pub(crate) fn router(state: AppState) -> Router {
    orch_http::finish_router(
        Router::new()
            .merge(events::router(state.clone()))
            .merge(exports::router(state.clone()))
            .merge(crate::console::router(FromRef::from_ref(&state)))
            .merge(ops::router(state))
            .merge(orch_http::openapi_route(
                <openapi::QueryApi as utoipa::OpenApi>::openapi(),
            )),
    )
}
