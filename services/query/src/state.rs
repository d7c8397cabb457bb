//! The state every handler shares, apart from the start-up that builds it
//! and the routes that read it.

use std::sync::Arc;

use orch_http::ApiKeys;
use sqlx::PgPool;

use crate::console::{ConsoleContext, ConsoleState};
use crate::exports::Exports;
use crate::trace_link::TraceLink;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) pool: PgPool,
    pub(crate) reader_keys: ApiKeys,
    pub(crate) trace_link: Option<TraceLink>,
    /// Whether the database answered the last background probe.
    pub(crate) database_reachable: orch_http::Watched,
    /// Export jobs, when an object store is configured.
    pub(crate) exports: Option<Exports>,
    /// The console's keys, producer and delivery probe.
    pub(crate) console: Arc<ConsoleState>,
    /// Where "overdue" begins, for `GET /events?overdue=true`.
    pub(crate) overdue: Arc<crate::overdue::OverdueClock>,
}

impl axum::extract::FromRef<AppState> for ConsoleContext {
    fn from_ref(state: &AppState) -> Self {
        Self {
            pool: state.pool.clone(),
            reader_keys: state.reader_keys.clone(),
            trace_link: state.trace_link.clone(),
            exports: state.exports.clone(),
            console: state.console.clone(),
        }
    }
}
