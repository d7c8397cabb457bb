//! The state every handler shares, apart from the start-up that builds it
//! and the routes that read it.

use std::sync::Arc;
use std::time::Duration;

use orch_http::ApiKeys;

use crate::publisher::Publisher;
use crate::spool::Spool;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) publisher: Publisher,
    pub(crate) spool: Spool,
    pub(crate) source_keys: ApiKeys,
    pub(crate) max_body_bytes: usize,
    pub(crate) request_deadline: Duration,
    pub(crate) status_base_url: Arc<str>,
    pub(crate) raw_topic: Arc<str>,
    /// Whether a broker answered the last background probe.
    pub(crate) kafka_reachable: orch_http::Watched,
}
