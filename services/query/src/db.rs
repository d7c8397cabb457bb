//! The connection pool, migrations, and the read queries behind the API.

use std::time::Duration;

use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::value::RawValue;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::listing::{ListFilter, PageKey, Sort};

/// A pool that fails fast when Postgres is down, so requests get a 503 quickly.
pub(crate) async fn connect(
    database_url: &SecretString,
    max_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(2))
        // A ping per checkout would double the round trips of a look-up; a
        // dead connection fails its query instead (a 503) and is dropped.
        .test_before_acquire(false)
        .connect(database_url.expose_secret())
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
         accepted_at, delivered_at, updated_at, trace_id, correlation_id, extra, \
         (SELECT CASE WHEN s.overdue_failed_at IS NULL THEN 'swept' ELSE 'overdue_failed' END \
          FROM event_sweeps s WHERE s.event_id = events.id) AS overdue"
    };
}

/// One event as support sees it.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct EventView {
    /// The source's event id.
    pub(crate) id: String,
    /// Event name; null until the raw record is projected.
    pub(crate) name: Option<String>,
    /// Event body; null until the raw record is projected.
    pub(crate) body: Option<String>,
    /// The event's own time, in UTC.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) timestamp: Option<OffsetDateTime>,
    /// The brand the dispatcher enriched it with.
    pub(crate) brand: Option<String>,
    /// accepted, retrying, delivered or dead_lettered.
    pub(crate) status: String,
    /// Delivery attempts in the current generation.
    pub(crate) attempts: i32,
    /// Replay generation: 0, plus one per redrive.
    pub(crate) generation: i32,
    /// The target's HTTP status in the furthest attempt that got one.
    pub(crate) last_http_status: Option<i32>,
    /// The category of the furthest failed attempt.
    pub(crate) last_error_kind: Option<String>,
    /// The detail of the furthest failed attempt.
    pub(crate) last_error_message: Option<String>,
    /// When the command service first accepted it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) accepted_at: Option<OffsetDateTime>,
    /// When the target took it, if it has.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) delivered_at: Option<OffsetDateTime>,
    /// The time of the newest record about it.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) updated_at: OffsetDateTime,
    /// W3C trace id, to find its spans.
    pub(crate) trace_id: Option<String>,
    /// The source's `X-Correlation-Id`, when it sent one.
    pub(crate) correlation_id: Option<String>,
    /// Fields the source sent beyond the contract, kept but not delivered.
    /// Passed through as stored, never parsed, so any number comes back as sent.
    #[schema(value_type = Option<Object>)]
    pub(crate) extra: Option<Json<Box<RawValue>>>,
    /// What the overdue sweeper did: `swept` (published again once, not
    /// final within the limit) or `overdue_failed` (not final a limit after
    /// that either; never swept twice); absent if never overdue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) overdue: Option<String>,
}

impl PageKey for EventView {
    fn page_key(&self) -> Option<(OffsetDateTime, &str)> {
        Some((self.accepted_at?, &self.id))
    }
}

/// One step in an event's history.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct HistoryEntry {
    /// Replay generation of the step.
    pub(crate) generation: i32,
    /// The status reached, or the overdue sweeper's step (`swept`, `overdue_failed`).
    pub(crate) status: String,
    /// Delivery attempt (0 for accepted).
    pub(crate) attempt: i32,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) at: OffsetDateTime,
    /// The target's HTTP status, if it answered.
    pub(crate) http_status: Option<i32>,
    /// Failure category, for failed attempts.
    pub(crate) error_kind: Option<String>,
    /// Failure detail, for failed attempts.
    pub(crate) error_message: Option<String>,
    /// How long the attempt took.
    pub(crate) latency_ms: Option<i64>,
}

/// The event joined with one step of its history per row (a row with no
/// step if it has none yet), so a look-up is one round trip.
#[derive(Debug, sqlx::FromRow)]
struct EventStepRow {
    #[sqlx(flatten)]
    event: EventView,
    step_generation: Option<i32>,
    step_status: Option<String>,
    step_attempt: Option<i32>,
    step_at: Option<OffsetDateTime>,
    step_http_status: Option<i32>,
    step_error_kind: Option<String>,
    step_error_message: Option<String>,
    step_latency_ms: Option<i64>,
}

impl EventStepRow {
    fn step(&mut self) -> Option<HistoryEntry> {
        Some(HistoryEntry {
            generation: self.step_generation?,
            status: self.step_status.take()?,
            attempt: self.step_attempt?,
            at: self.step_at?,
            http_status: self.step_http_status,
            error_kind: self.step_error_kind.take(),
            error_message: self.step_error_message.take(),
            latency_ms: self.step_latency_ms,
        })
    }
}

/// A look-up's one statement: the event with id `$1` joined with one step of
/// its history per row, oldest first. Public for the look-up benchmark's
/// ceiling, which runs exactly this with nothing around it.
pub const FIND_EVENT_SQL: &str = concat!(
    "SELECT e.*, s.* FROM (SELECT ",
    event_columns!(),
    r#" FROM events WHERE id = $1) e
    LEFT JOIN LATERAL (
        SELECT generation AS step_generation, status AS step_status, attempt AS step_attempt,
               at AS step_at, http_status AS step_http_status, error_kind AS step_error_kind,
               error_message AS step_error_message, latency_ms AS step_latency_ms
        FROM event_history WHERE event_id = $1
        UNION ALL
        SELECT generation, 'swept', 0, swept_at, NULL, NULL,
               'not final within the overdue limit: published again at this generation', NULL
        FROM event_sweeps WHERE event_id = $1
        UNION ALL
        SELECT generation, 'overdue_failed', 0, overdue_failed_at, NULL, NULL,
               'not final a whole overdue limit after its sweep: given up on, never swept twice', NULL
        FROM event_sweeps WHERE event_id = $1 AND overdue_failed_at IS NOT NULL
    ) s ON true
    ORDER BY s.step_generation, s.step_at, s.step_attempt
    "#
);

/// The event with id `id` and its history, oldest step first, if projected.
pub(crate) async fn find_event(
    pool: &PgPool,
    id: &str,
) -> Result<Option<(EventView, Vec<HistoryEntry>)>, sqlx::Error> {
    let mut rows = sqlx::query_as::<_, EventStepRow>(FIND_EVENT_SQL)
        .bind(id)
        .fetch_all(pool)
        .await?;
    let history = rows.iter_mut().filter_map(EventStepRow::step).collect();
    Ok(rows.into_iter().next().map(|row| (row.event, history)))
}

/// One page of events in the filter's order; one row more than `limit` is
/// fetched so the caller knows whether another page follows. Only the
/// filters given are in the statement, so the planner sees each query's
/// real shape and picks its index (a generic plan with `$n IS NULL OR …`
/// for every filter scans the acceptance index for a rare correlation id).
pub(crate) async fn list_events(
    pool: &PgPool,
    filter: &ListFilter,
) -> Result<Vec<EventView>, sqlx::Error> {
    let mut query = sqlx::QueryBuilder::new(concat!("SELECT ", event_columns!(), " FROM events"));
    push_conditions(&mut query, filter);
    let (after, order) = match filter.sort {
        Sort::Newest => (" < ", " ORDER BY accepted_at DESC, id DESC"),
        Sort::Oldest => (" > ", " ORDER BY accepted_at, id"),
    };
    if let Some(cursor) = &filter.after {
        query
            .push(" AND (accepted_at, id)")
            .push(after)
            .push("(")
            .push_bind(cursor.accepted_at)
            .push(", ")
            .push_bind(cursor.id.as_str())
            .push(")");
    }
    query
        .push(order)
        .push(" LIMIT ")
        .push_bind(filter.limit + 1);
    query.build_query_as::<EventView>().fetch_all(pool).await
}

/// The ids of at most `cap` events the filter selects (its cursor and
/// limit aside), newest first.
pub(crate) async fn matching_ids(
    pool: &PgPool,
    filter: &ListFilter,
    cap: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut query = sqlx::QueryBuilder::new("SELECT id FROM events");
    push_conditions(&mut query, filter);
    query
        .push(" ORDER BY accepted_at DESC, id DESC LIMIT ")
        .push_bind(cap);
    query.build_query_scalar::<String>().fetch_all(pool).await
}

/// `WHERE` with the filter's conditions; events whose raw record is not
/// projected yet have no acceptance time and are listed once it arrives.
fn push_conditions(query: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>, filter: &ListFilter) {
    query.push(" WHERE accepted_at IS NOT NULL");
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(correlation_id) = &filter.correlation_id {
        query
            .push(" AND correlation_id = ")
            .push_bind(correlation_id.clone());
    }
    if let Some(trace_id) = &filter.trace_id {
        query.push(" AND trace_id = ").push_bind(trace_id.clone());
    }
    if let Some(pattern) = &filter.text_pattern {
        // The text is in a table of its own, with the trigram index, so that
        // status updates of `events` do not write to that index (0011).
        query
            .push(" AND id IN (SELECT id FROM event_search WHERE document ILIKE ")
            .push_bind(pattern.clone())
            .push(")");
    }
    if let Some(kind) = filter.error_kind {
        query
            .push(" AND last_error_kind = ")
            .push_bind(kind.as_str());
    }
    if let Some(code) = filter.http_status {
        query.push(" AND last_http_status = ").push_bind(code);
    }
    if let Some(from) = filter.from {
        query.push(" AND accepted_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        query.push(" AND accepted_at < ").push_bind(to);
    }
    if filter.overdue {
        // The sweeper's definition, on the index of migration 0010.
        match filter.overdue_cutoff {
            Some(cutoff) => query
                .push(" AND status IN ('accepted', 'retrying') AND accepted_at < ")
                .push_bind(cutoff),
            None => query.push(" AND false"),
        };
    }
}

/// How many projected events are in each status.
pub(crate) async fn status_counts(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as::<_, (String, i64)>("SELECT status, count(*) FROM events GROUP BY status")
        .fetch_all(pool)
        .await
}

/// An export's keyset page: $1, $2 the (accepted_at, id) to start after,
/// $3 the range's end, $4 the status or null, $5 the page size. Public for
/// the export benchmark's ceiling, which reads the same pages bare.
pub const EXPORT_PAGE_SQL: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE (accepted_at, id) > ($1, $2) AND accepted_at < $3 \
       AND ($4::text IS NULL OR status = $4) \
     ORDER BY accepted_at, id LIMIT $5"
);

/// One keyset page of an export: events accepted in `[from, to)` after the
/// `after` (accepted_at, id), in that order, handed to `each` as they
/// arrive, so a page costs one decoded row rather than all of them. One
/// static query whatever the page, so its plan is the index range scan
/// every time. Answers the rows read and the last one's key.
pub(crate) async fn export_page(
    pool: &PgPool,
    (from, to): (OffsetDateTime, OffsetDateTime),
    status: Option<&str>,
    after: Option<&(OffsetDateTime, String)>,
    limit: i64,
    mut each: impl FnMut(&EventView),
) -> Result<(usize, Option<(OffsetDateTime, String)>), sqlx::Error> {
    // Ids are never empty, so ("", from) is before every row at `from`.
    let (after_at, after_id) = after.map_or((from, ""), |(at, id)| (*at, id.as_str()));
    let mut rows = sqlx::query_as::<_, EventView>(EXPORT_PAGE_SQL)
        .bind(after_at)
        .bind(after_id)
        .bind(to)
        .bind(status)
        .bind(limit)
        .fetch(pool);
    let (mut count, mut last) = (0, None);
    while let Some(event) = rows.try_next().await? {
        each(&event);
        count += 1;
        last = Some(event);
    }
    Ok((
        count,
        last.and_then(|event| event.accepted_at.map(|at| (at, event.id))),
    ))
}
