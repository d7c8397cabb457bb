//! Run-time control of the faults: `GET`/`PUT /admin/faults`, `POST /admin/down`.

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Faults, now_ms};

pub(crate) type SharedFaults = Arc<RwLock<Faults>>;

pub(crate) fn router(faults: SharedFaults) -> Router {
    Router::new()
        .route("/admin/faults", get(show).put(replace))
        .route("/admin/down", post(down))
        .with_state(faults)
}

async fn show(State(faults): State<SharedFaults>) -> Json<Faults> {
    Json(faults.read().unwrap_or_else(|p| p.into_inner()).clone())
}

async fn replace(State(faults): State<SharedFaults>, Json(new): Json<Faults>) -> Response {
    if let Err(message) = new.validate() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": message })),
        )
            .into_response();
    }
    tracing::info!(?new, "Faults replaced.");
    *faults.write().unwrap_or_else(|p| p.into_inner()) = new.clone();
    Json(new).into_response()
}

#[derive(Debug, Deserialize)]
struct Down {
    for_ms: u64,
}

/// Starts a down window of `for_ms` from now.
async fn down(State(faults): State<SharedFaults>, Json(down): Json<Down>) -> Json<Faults> {
    let mut faults = faults.write().unwrap_or_else(|p| p.into_inner());
    faults.down_until_ms = now_ms() + down.for_ms;
    Json(faults.clone())
}
