//! The support and ops console: server-rendered pages under `/console`,
//! with a stylesheet and a few lines of script served from the binary (no
//! CDN, no build step). Served by the query service because that is where
//! what support asks about lives: the read model, its search indexes, the
//! export jobs, and the database that keeps sessions and the audit log.

mod assets;
mod audit;
mod charts;
mod config;
mod dead_letters;
mod delivery;
mod exports;
mod find;
mod journey;
mod login;
mod page;
mod problem;
mod redrive;
mod replicas;
mod sampler;
mod session;

pub use config::{ConsoleConfig, SecureCookie};
pub(crate) use replicas::Replicas;
pub(crate) use sampler::DeliveryProbe;

use axum::Router;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};

use sqlx::PgPool;

use crate::exports::Exports;
use crate::trace_link::TraceLink;

/// What the console's handlers share beyond the read model.
pub(crate) struct ConsoleState {
    pub(crate) config: ConsoleConfig,
    /// Keys that may act; `None`: nobody can.
    pub(crate) ops_keys: Option<orch_http::ApiKeys>,
    /// Writes redrives and delivery controls (idempotent, acks=all).
    pub(crate) producer: orch_kafka::FutureProducer,
    pub(crate) topics: orch_contracts::Topics,
    pub(crate) probe: std::sync::Arc<DeliveryProbe>,
    /// Sign-ins this replica takes: guessing keys is slowed to a crawl,
    /// while people signing in never notice.
    pub(crate) sign_ins: governor::DefaultDirectRateLimiter,
}

impl std::fmt::Debug for ConsoleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ConsoleState {
    /// The producer and the probe for `kafka`; no connection is made yet.
    pub(crate) fn new(
        config: ConsoleConfig,
        kafka: &orch_kafka::KafkaConfig,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let producer = kafka
            .durable_producer_config("orch-query-console", 5)
            .create_with_context(kafka.auth_context())?;
        let probe = std::sync::Arc::new(DeliveryProbe::new(Replicas::new(
            config.dispatcher_urls.clone(),
        )));
        let sign_ins = governor::RateLimiter::direct(
            governor::Quota::per_second(SIGN_INS_PER_SECOND).allow_burst(SIGN_IN_BURST),
        );
        Ok(Self {
            sign_ins,
            ops_keys: config.ops_key_hashes.clone(),
            config,
            producer,
            topics: kafka.topics(),
            probe,
        })
    }
}

/// Sign-ins a replica takes a second, after a burst of `SIGN_IN_BURST`.
const SIGN_INS_PER_SECOND: std::num::NonZeroU32 = std::num::NonZeroU32::new(5).unwrap();
/// Sign-ins a replica takes at once.
const SIGN_IN_BURST: std::num::NonZeroU32 = std::num::NonZeroU32::new(20).unwrap();

/// What the browser may load on a console page: only our own files.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Headers on every console answer: our own files only, never framed, no
/// MIME sniffing, no referrer to other sites.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// What the console's handlers read: the read model, the keys, export jobs
/// and the console's own state (built from the service's state).
#[derive(Clone)]
pub(crate) struct ConsoleContext {
    pub(crate) pool: PgPool,
    pub(crate) reader_keys: orch_http::ApiKeys,
    pub(crate) trace_link: Option<TraceLink>,
    pub(crate) exports: Option<Exports>,
    pub(crate) console: std::sync::Arc<ConsoleState>,
}

/// Every console route.
pub(crate) fn router(state: ConsoleContext) -> Router {
    Router::new()
        .route("/console", get(find::find))
        .route("/console/", get(find::find))
        .route("/console/login", get(login::form).post(login::sign_in))
        .route("/console/logout", post(login::sign_out))
        .route("/console/events/{id}", get(journey::journey))
        .route("/console/dead-letters", get(dead_letters::list))
        .route("/console/redrives", post(redrive::preview))
        .route("/console/redrives/{id}", get(redrive::show))
        .route("/console/redrives/{id}/confirm", post(redrive::confirm))
        .route("/console/delivery", get(delivery::page))
        .route("/console/delivery/controls", post(delivery::set_control))
        .route("/console/exports", get(exports::list).post(exports::start))
        .route("/console/audit", get(audit::list))
        .route("/console/assets/{file}", get(assets::serve))
        .layer(axum::middleware::map_response(protect))
        .with_state(state)
}
