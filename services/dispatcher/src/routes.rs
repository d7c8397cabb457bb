//! The ops endpoints: `/health`, `/ready`, `/metrics` and `/status`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use orch_http::Problem;
use serde::Serialize;
use serde_json::json;

use crate::breaker::BreakerView;
use crate::gate::{Gate, Pause};
use crate::share::{RateShare, RateView};
use crate::tracker::SharedTracker;

/// What the endpoints read.
#[derive(Debug, Clone)]
pub(crate) struct OpsState {
    pub(crate) consuming: Arc<AtomicBool>,
    pub(crate) gate: Arc<Gate>,
    pub(crate) share: Arc<RateShare>,
    pub(crate) tracker: Arc<SharedTracker>,
}

/// `GET /status`: this replica's delivery state.
#[derive(Debug, Serialize)]
struct StatusView {
    breaker: BreakerView,
    paused: bool,
    pause: Option<Pause>,
    rate: RateView,
    in_flight: usize,
}

pub(crate) fn router(state: OpsState) -> Router {
    orch_http::finish_router(
        Router::new()
            .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
            .route("/ready", get(ready))
            .route("/status", get(status))
            .with_state(state),
    )
}

/// Ready while the consumer loop runs. A paused replica or an open breaker
/// is still ready: it is doing what it should, and restarting it would not help.
async fn ready(State(state): State<OpsState>) -> Response {
    if state.consuming.load(Ordering::Relaxed) {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        Problem::unavailable("The consumer is not running.").into_response()
    }
}

async fn status(State(state): State<OpsState>) -> Json<StatusView> {
    let (breaker, pause) = state.gate.view();
    Json(StatusView {
        breaker,
        paused: pause.is_some(),
        pause,
        rate: state.share.view(),
        in_flight: state.tracker.in_flight(),
    })
}
