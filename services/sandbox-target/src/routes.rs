use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Name, Value};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::DefaultDirectRateLimiter;
use governor::clock::{Clock, DefaultClock};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::RateLimitMode;
use crate::admin::{self, SharedFaults};
use crate::faults::{Fault, now_ms};
use crate::hostile;
use crate::received::{Received, ReceivedHeaders};
use crate::schema::TargetSchema;
use crate::store::{Counter, Stats, Store};

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) schema: TargetSchema,
    pub(crate) store: Arc<Store>,
    pub(crate) limiter: Option<Arc<DefaultDirectRateLimiter>>,
    pub(crate) limit_mode: RateLimitMode,
    pub(crate) faults: SharedFaults,
    pub(crate) token: Option<SecretString>,
    pub(crate) received: Arc<Received>,
    /// The server's shutdown: ends the streamed hostile bodies.
    pub(crate) shutdown: CancellationToken,
}

pub(crate) fn router(state: AppState) -> Router {
    let faults = state.faults.clone();
    orch_http::finish_router(
        Router::new()
            .route("/graphql", post(graphql))
            .route_layer(axum::middleware::from_fn(orch_http::trace_requests))
            .route("/stats", get(stats))
            .route("/admin/window/reset", post(reset_window))
            .route("/received/{id}", get(received))
            .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
            .with_state(state)
            .merge(admin::router(faults)),
    )
}

/// `POST /graphql`. The rate limit and the faults apply to `createItem`, the
/// call the dispatcher makes; queries (the tests' oracle look-ups) pass freely.
async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    state.store.count(Counter::Requests);
    if let Some(token) = &state.token
        && orch_http::presented_key(&headers) != Some(token.expose_secret())
    {
        return graphql_error(StatusCode::UNAUTHORIZED, "unauthorized", "UNAUTHENTICATED");
    }
    let request = request.into_inner();
    if !request.query.contains("createItem") {
        return GraphQLResponse::from(state.schema.execute(request).await).into_response();
    }
    if let Some(limiter) = &state.limiter
        && let Err(not_until) = limiter.check()
    {
        state.store.count(Counter::RateLimited);
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return rate_limited(state.limit_mode, wait);
    }
    state.store.admit();
    let id = match request.variables.get(&Name::new("id")) {
        Some(Value::String(id)) => Some(id.clone()),
        _ => None,
    };
    if let Some(id) = &id {
        state
            .received
            .note(id.clone(), ReceivedHeaders::from_headers(&headers));
    }
    let (latency, fault, timeout) = {
        // Write, not read: `decide` may spend a hostile answer.
        let mut faults = state.faults.write();
        let (latency, fault) = faults.decide(id.as_deref(), now_ms(), &mut rand::thread_rng());
        (
            latency,
            fault,
            Duration::from_millis(faults.timeout_ms.max(1)),
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => GraphQLResponse::from(state.schema.execute(request).await).into_response(),
        Fault::Down(status) if status != StatusCode::SERVICE_UNAVAILABLE.as_u16() => {
            state.store.count(Counter::InjectedStatus);
            // `Faults::validate` keeps the status within 400..=599.
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            graphql_error(status, "injected status", code_for(status))
        }
        Fault::Down(_) | Fault::ServerError => {
            state.store.count(Counter::InjectedServerErrors);
            graphql_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "injected server error",
                "INTERNAL_SERVER_ERROR",
            )
        }
        Fault::Hostile(answer) => {
            state.store.count(Counter::InjectedHostile);
            hostile::render(&answer, &state.shutdown)
        }
        Fault::RateLimited => {
            state.store.count(Counter::InjectedRateLimited);
            rate_limited(RateLimitMode::Http, Duration::from_secs(1))
        }
        Fault::Reject => {
            state.store.count(Counter::Rejected);
            graphql_error(
                StatusCode::BAD_REQUEST,
                "this id is refused",
                "BAD_USER_INPUT",
            )
        }
        Fault::Timeout => {
            state.store.count(Counter::InjectedTimeouts);
            tokio::time::sleep(timeout).await;
            graphql_error(StatusCode::GATEWAY_TIMEOUT, "injected timeout", "TIMEOUT")
        }
    }
}

/// `GET /received/{id}`: the trace and correlation headers of the latest
/// `createItem` for `id`.
async fn received(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.received.get(&id) {
        Some(headers) => Json(headers).into_response(),
        None => orch_http::Problem::not_found(format!("No createItem for id {id:?} arrived."))
            .into_response(),
    }
}

fn rate_limited(mode: RateLimitMode, wait: Duration) -> Response {
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    let body = Json(json!({
        "data": null,
        "errors": [{ "message": "rate limit exceeded", "extensions": { "code": "RATE_LIMITED", "retryAfter": seconds } }]
    }));
    match mode {
        RateLimitMode::Http => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            body,
        )
            .into_response(),
        RateLimitMode::Graphql => (StatusCode::OK, body).into_response(),
    }
}

/// The GraphQL error code a real API would pair with `status`.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        _ => "INTERNAL_SERVER_ERROR",
    }
}

fn graphql_error(status: StatusCode, message: &str, code: &str) -> Response {
    (
        status,
        Json(json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response()
}

/// `POST /admin/window/reset`: `max_in_window` counts from now on.
async fn reset_window(State(state): State<AppState>) -> Json<Stats> {
    state.store.reset_window();
    Json(state.store.stats())
}

/// `GET /stats`: the oracle's counters.
async fn stats(State(state): State<AppState>) -> Json<Stats> {
    Json(state.store.stats())
}
