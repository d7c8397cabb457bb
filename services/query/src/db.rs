//! The connection pool, migrations, and the read queries behind the API.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use time::OffsetDateTime;

use orch_contracts::Status;

use crate::QueryConfig;
use crate::listing::ListFilter;

/// A pool that fails fast when Postgres is down, so requests get a 503 quickly.
pub(crate) async fn connect(config: &QueryConfig) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(2))
        .connect(config.database_url.expose_secret())
        .await
}

/// Applies the embedded schema migrations (idempotent).
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations").run(pool).await
}

/// The `events` columns behind [`EventView`], as its fields are named. A
/// macro, so each query stays one static string (no formatting per look-up).
macro_rules! event_columns {
    () => {
        "id, name, body, event_timestamp AS timestamp, brand, status, \
         status_attempt AS attempts, status_generation AS generation, \
         last_http_status, last_error_kind, last_error_message, \
         accepted_at, delivered_at, updated_at, trace_id, extra"
    };
}

/// One event as support sees it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub(crate) struct EventView {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) body: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) timestamp: Option<OffsetDateTime>,
    pub(crate) brand: Option<String>,
    pub(crate) status: String,
    pub(crate) attempts: i32,
    pub(crate) generation: i32,
    pub(crate) last_http_status: Option<i32>,
    pub(crate) last_error_kind: Option<String>,
    pub(crate) last_error_message: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) accepted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
    pub(crate) trace_id: Option<String>,
    pub(crate) extra: Option<serde_json::Value>,
}

/// One step in an event's history.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub(crate) struct HistoryEntry {
    pub(crate) generation: i32,
    pub(crate) status: String,
    pub(crate) attempt: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
    pub(crate) http_status: Option<i32>,
    pub(crate) error_kind: Option<String>,
    pub(crate) error_message: Option<String>,
    pub(crate) latency_ms: Option<i64>,
}

/// The event with id `id`, if projected.
pub(crate) async fn find_event(pool: &PgPool, id: &str) -> Result<Option<EventView>, sqlx::Error> {
    sqlx::query_as::<_, EventView>(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Every recorded step for `id`, oldest first.
pub(crate) async fn history(pool: &PgPool, id: &str) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as::<_, HistoryEntry>(
        r#"
        SELECT generation, status, attempt, at, http_status, error_kind, error_message, latency_ms
        FROM event_history WHERE event_id = $1
        ORDER BY generation, at, attempt
        "#,
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// One page of events, newest accepted first; one row more than `limit` is
/// fetched so the caller knows whether another page follows.
pub(crate) async fn list_events(
    pool: &PgPool,
    filter: &ListFilter,
) -> Result<Vec<EventView>, sqlx::Error> {
    // Events whose raw record is not projected yet have no acceptance time and
    // are listed once it arrives.
    sqlx::query_as::<_, EventView>(concat!(
        "SELECT ",
        event_columns!(),
        r#"
        FROM events
        WHERE accepted_at IS NOT NULL
          AND ($1::text IS NULL OR status = $1)
          AND ($2::timestamptz IS NULL OR accepted_at >= $2)
          AND ($3::timestamptz IS NULL OR accepted_at < $3)
          AND ($4::timestamptz IS NULL OR (accepted_at, id) < ($4, $5))
        ORDER BY accepted_at DESC, id DESC
        LIMIT $6
        "#
    ))
    .bind(filter.status.map(Status::as_str))
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.after.as_ref().map(|c| c.accepted_at))
    .bind(filter.after.as_ref().map(|c| c.id.as_str()))
    .bind(filter.limit + 1)
    .fetch_all(pool)
    .await
}

/// How many projected events are in each status.
pub(crate) async fn status_counts(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as::<_, (String, i64)>("SELECT status, count(*) FROM events GROUP BY status")
        .fetch_all(pool)
        .await
}
