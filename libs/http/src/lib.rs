//! HTTP pieces every service shares, so each answers errors, auth, health and
//! metrics the same way.

mod api_keys;
mod auth;
mod metrics;
mod problem;
mod serve;

pub use api_keys::{ApiKeys, ApiKeysError, hash_key};
pub use auth::{presented_key, require_key};
pub use metrics::{metrics_handle, metrics_route, track_requests};
pub use problem::{FieldError, Problem};
pub use serve::{serve, shutdown_on_signal};
