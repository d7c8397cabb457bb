use std::sync::Arc;

use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::DefaultDirectRateLimiter;
use governor::clock::{Clock, DefaultClock};
use serde_json::json;

use crate::schema::TargetSchema;
use crate::store::{Stats, Store};

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) schema: TargetSchema,
    pub(crate) store: Arc<Store>,
    pub(crate) limiter: Option<Arc<DefaultDirectRateLimiter>>,
    pub(crate) token: Option<Arc<str>>,
}

pub(crate) fn router(state: AppState) -> Router {
    orch_http::finish_router(
        Router::new()
            .route("/graphql", post(graphql))
            .route("/stats", get(stats))
            .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
            .with_state(state),
    )
}

/// `POST /graphql`, behind the token check and the rate limit.
async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    state.store.count_request();
    if let Some(token) = &state.token
        && orch_http::presented_key(&headers) != Some(token.as_ref())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "errors": [{ "message": "unauthorized" }] })),
        )
            .into_response();
    }
    if let Some(limiter) = &state.limiter
        && let Err(not_until) = limiter.check()
    {
        state.store.count_rate_limited();
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.max(1).to_string())],
            Json(json!({ "errors": [{ "message": "rate limit exceeded", "extensions": { "code": "RATE_LIMITED" } }] })),
        )
            .into_response();
    }
    GraphQLResponse::from(state.schema.execute(request.into_inner()).await).into_response()
}

/// `GET /stats`: the oracle's counters.
async fn stats(State(state): State<AppState>) -> Json<Stats> {
    Json(state.store.stats())
}
