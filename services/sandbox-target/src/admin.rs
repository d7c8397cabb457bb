//! Run-time control of the faults: `GET`/`PUT /admin/faults`,
//! `POST /admin/down`, `POST /admin/hostile`.

use parking_lot::RwLock;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Faults, now_ms};
use crate::hostile::Hostile;

pub(crate) type SharedFaults = Arc<RwLock<Faults>>;

pub(crate) fn router(faults: SharedFaults) -> Router {
    Router::new()
        .route("/admin/faults", get(show).put(replace))
        .route("/admin/down", post(down))
        .route("/admin/hostile", post(hostile))
        .with_state(faults)
}

async fn show(State(faults): State<SharedFaults>) -> Json<Faults> {
    Json(faults.read().clone())
}

async fn replace(State(faults): State<SharedFaults>, Json(new): Json<Faults>) -> Response {
    update(&faults, |faults| *faults = new)
}

#[derive(Debug, Deserialize)]
struct Down {
    for_ms: u64,
    /// The status to answer with; 503 when absent.
    #[serde(default)]
    status: Option<u16>,
}

/// Starts a down window of `for_ms` from now, answering `status`.
async fn down(State(faults): State<SharedFaults>, Json(down): Json<Down>) -> Response {
    update(&faults, |faults| {
        faults.down_until_ms = now_ms().saturating_add(down.for_ms);
        faults.down_status = down.status;
    })
}

/// Sets the hostile answer, leaving the other faults as they are.
async fn hostile(State(faults): State<SharedFaults>, Json(hostile): Json<Hostile>) -> Response {
    update(&faults, |faults| faults.hostile = Some(hostile))
}

/// Applies `change` to a copy of the faults and puts it in force only if it
/// validates, so a refused change leaves the faults as they were; answers
/// the faults now in force, or 422.
fn update(faults: &SharedFaults, change: impl FnOnce(&mut Faults)) -> Response {
    let mut faults = faults.write();
    let mut new = faults.clone();
    change(&mut new);
    if let Err(message) = new.validate() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": message })),
        )
            .into_response();
    }
    tracing::info!(faults = ?new, "Faults changed.");
    *faults = new.clone();
    Json(new).into_response()
}
