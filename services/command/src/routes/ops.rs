use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde_json::json;

use crate::state::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(state)
}

/// Alive: the process serves HTTP.
async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready while an accepted event can be made durable: a broker answered the
/// last background probe, or the spool is healthy and has room. Quarantined
/// spool content is shown (it needs a person) but does not make the service
/// unready: new events are still made durable.
async fn ready(State(state): State<AppState>) -> Response {
    let kafka = state.kafka_reachable.get();
    let spool = state.spool.stats();
    let body = json!({
        "status": if kafka || spool.healthy { "ready" } else { "unavailable" },
        "kafka": if kafka { "reachable" } else { "unreachable" },
        "spool": {
            "healthy": spool.healthy,
            "depth": spool.depth,
            "bytes": spool.bytes,
            "oldest_age_ms": spool.oldest_age_ms,
            "quarantined": spool.quarantined,
        },
    });
    if kafka || spool.healthy {
        Json(body).into_response()
    } else {
        Problem::unavailable("Kafka is unreachable and the spool cannot take events.")
            .into_response()
    }
}
