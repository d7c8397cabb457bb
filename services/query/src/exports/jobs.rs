//! Export jobs in Postgres: created by the API, claimed by workers with
//! `FOR UPDATE SKIP LOCKED`, kept alive by a heartbeat that also reports
//! progress, and taken over when the heartbeat stops.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::request::NewExport;

/// A job runs at most this many times: the first, and one retry.
pub(crate) const MAX_ATTEMPTS: i32 = 2;

/// A job as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Job {
    pub(crate) id: Uuid,
    pub(crate) from_at: OffsetDateTime,
    pub(crate) to_at: OffsetDateTime,
    pub(crate) status_filter: Option<String>,
    pub(crate) format: String,
    pub(crate) state: String,
    pub(crate) attempts: i32,
    pub(crate) rows: i64,
    pub(crate) bytes: i64,
    pub(crate) object_key: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) started_at: Option<OffsetDateTime>,
    pub(crate) finished_at: Option<OffsetDateTime>,
    pub(crate) expires_at: Option<OffsetDateTime>,
}

/// Filters an export applied.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Filters {
    /// Only events in this status; null for all.
    pub(crate) status: Option<String>,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct JobView {
    /// The job's id (a UUID).
    pub(crate) id: String,
    /// Start of the range of acceptance times (inclusive).
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) from: OffsetDateTime,
    /// End of the range (exclusive).
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) to: OffsetDateTime,
    /// Filters applied.
    pub(crate) filters: Filters,
    /// `ndjson` or `csv`.
    pub(crate) format: String,
    /// not_started, started, finished or failed.
    pub(crate) state: String,
    /// Times a worker took it up (at most 2).
    pub(crate) attempts: i32,
    /// Rows written so far (all of them once finished).
    pub(crate) rows: i64,
    /// Bytes written so far.
    pub(crate) bytes: i64,
    /// Where to download the file: a presigned URL, until `expires_at`.
    pub(crate) export_uri: Option<String>,
    /// When the file's URL stops working.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) expires_at: Option<OffsetDateTime>,
    /// Why it failed, when it did.
    pub(crate) error: Option<String>,
    /// When it was asked for.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) created_at: OffsetDateTime,
    /// When the current (or last) attempt started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) started_at: Option<OffsetDateTime>,
    /// When it finished or failed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) finished_at: Option<OffsetDateTime>,
}

impl Job {
    /// The API's view, with the download URL when there is one.
    pub(crate) fn view(&self, export_uri: Option<String>) -> JobView {
        JobView {
            id: self.id.to_string(),
            from: self.from_at,
            to: self.to_at,
            filters: Filters {
                status: self.status_filter.clone(),
            },
            format: self.format.clone(),
            state: self.state.clone(),
            attempts: self.attempts,
            rows: self.rows,
            bytes: self.bytes,
            export_uri,
            expires_at: self.expires_at,
            error: self.error.clone(),
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }
}

const COLUMNS: &str = "id, from_at, to_at, status_filter, format, state, attempts, rows, bytes, \
     object_key, error, created_at, started_at, finished_at, expires_at";

/// Records a new job, not started.
pub(crate) async fn create(pool: &PgPool, new: &NewExport) -> Result<Job, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO export_jobs (id, from_at, to_at, status_filter, format) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(new.from)
    .bind(new.to)
    .bind(new.status.map(|s| s.as_str()))
    .bind(new.format.as_str())
    .fetch_one(pool)
    .await
}

/// One job.
pub(crate) async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM export_jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The newest `limit` jobs.
pub(crate) async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Job>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM export_jobs ORDER BY created_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Fails started jobs whose worker went silent and that have had their
/// retry; returns how many.
pub(crate) async fn fail_abandoned(pool: &PgPool, lease: Duration) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE export_jobs SET state = 'failed', finished_at = now(), \
         error = format('the worker running it stopped answering (%s attempts); the last one had written %s rows', attempts, rows) \
         WHERE state = 'started' AND heartbeat_at < now() - make_interval(secs => $1) AND attempts >= $2",
    )
    .bind(lease.as_secs_f64())
    .bind(MAX_ATTEMPTS)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Takes the oldest job that is waiting, or whose worker went silent and
/// that may still be retried. Concurrent workers never take the same one.
pub(crate) async fn claim(
    pool: &PgPool,
    worker: &str,
    lease: Duration,
) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE export_jobs SET state = 'started', attempts = attempts + 1, worker = $1, \
             started_at = now(), heartbeat_at = now(), rows = 0, bytes = 0 \
         WHERE id = (SELECT id FROM export_jobs \
                     WHERE state = 'not_started' \
                        OR (state = 'started' AND heartbeat_at < now() - make_interval(secs => $2) AND attempts < $3) \
                     ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1) \
         RETURNING {COLUMNS}"
    ))
    .bind(worker)
    .bind(lease.as_secs_f64())
    .bind(MAX_ATTEMPTS)
    .fetch_optional(pool)
    .await
}

/// Reports progress and renews the lease; false when the job is no longer
/// this worker's (taken over), so the worker must stop.
pub(crate) async fn heartbeat(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    rows: i64,
    bytes: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE export_jobs SET heartbeat_at = now(), rows = $4, bytes = $5 \
         WHERE id = $1 AND worker = $2 AND attempts = $3 AND state = 'started'",
    )
    .bind(job.id)
    .bind(worker)
    .bind(job.attempts)
    .bind(rows)
    .bind(bytes)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the job finished, its file at `object_key` until `expires_at`.
pub(crate) async fn finish(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    progress: (i64, i64),
    object_key: &str,
    expires_at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE export_jobs SET state = 'finished', finished_at = now(), heartbeat_at = now(), \
             rows = $4, bytes = $5, object_key = $6, expires_at = $7, error = NULL \
         WHERE id = $1 AND worker = $2 AND attempts = $3 AND state = 'started'",
    )
    .bind(job.id)
    .bind(worker)
    .bind(job.attempts)
    .bind(progress.0)
    .bind(progress.1)
    .bind(object_key)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A run failed with `reason`: the job waits for its retry, or, after its
/// last attempt, fails for good with the reason (then true).
pub(crate) async fn release_failed(
    pool: &PgPool,
    job: &Job,
    worker: &str,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let state: Option<String> = sqlx::query_scalar(
        "UPDATE export_jobs SET \
             state = CASE WHEN attempts >= $4 THEN 'failed' ELSE 'not_started' END, \
             finished_at = CASE WHEN attempts >= $4 THEN now() END, \
             error = $5 \
         WHERE id = $1 AND worker = $2 AND attempts = $3 AND state = 'started' \
         RETURNING state",
    )
    .bind(job.id)
    .bind(worker)
    .bind(job.attempts)
    .bind(MAX_ATTEMPTS)
    .bind(reason)
    .fetch_optional(pool)
    .await?;
    Ok(state.as_deref() == Some("failed"))
}

/// Gives a job back at shutdown: it waits for the next worker, and this
/// attempt does not count against its retry.
pub(crate) async fn hand_back(pool: &PgPool, job: &Job, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE export_jobs SET state = 'not_started', attempts = attempts - 1, worker = NULL \
         WHERE id = $1 AND worker = $2 AND attempts = $3 AND state = 'started'",
    )
    .bind(job.id)
    .bind(worker)
    .bind(job.attempts)
    .execute(pool)
    .await?;
    Ok(())
}
