//! The batch upserts. Each statement is one round trip whatever the batch size
//! (arrays unnested server-side), and each is idempotent: replaying any records
//! any number of times leaves the same rows.

use orch_contracts::{Status, StatusRecord};
use sqlx::{PgPool, Postgres, Transaction};

use super::batch::{Batch, Origin, Single, order};

/// Writes `batch` in one transaction; its unreadable records go to the
/// quarantine table in the same one.
pub(crate) async fn write(pool: &PgPool, batch: &Batch) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    upsert_raw(&mut tx, batch).await?;
    upsert_statuses(&mut tx, batch).await?;
    insert_history(&mut tx, batch).await?;
    for unreadable in &batch.unreadable {
        let row = Quarantined {
            origin: &unreadable.origin,
            event_id: None,
            reason: "unreadable",
            error: &unreadable.error,
            record: &unreadable.payload,
        };
        row.insert(&mut tx).await?;
    }
    tx.commit().await
}

/// Puts `single`, which Postgres refused with `error`, in the quarantine
/// table, so the records around it can be projected.
pub(crate) async fn quarantine(
    pool: &PgPool,
    single: &Single,
    error: &str,
) -> Result<(), sqlx::Error> {
    let (origin, event_id, record, reason) = match single {
        Single::Raw(origin, record) => (
            origin,
            Some(record.id.as_str()),
            orch_contracts::to_json(record),
            "refused",
        ),
        Single::Status(origin, record) => (
            origin,
            Some(record.id.as_str()),
            orch_contracts::to_json(record),
            "refused",
        ),
        Single::Unreadable(unreadable) => (
            &unreadable.origin,
            None,
            unreadable.payload.clone(),
            "unreadable",
        ),
    };
    let mut tx = pool.begin().await?;
    Quarantined {
        origin,
        event_id,
        reason,
        error,
        record: &record,
    }
    .insert(&mut tx)
    .await?;
    tx.commit().await
}

/// Records in the quarantine table.
pub(crate) async fn quarantined_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM projection_quarantine")
        .fetch_one(pool)
        .await
}

/// Longest event id kept with a quarantined record (the id itself may be
/// what Postgres refused); the whole record is kept beside it.
const QUARANTINED_ID_CHARS: usize = 200;

/// One row of `projection_quarantine`.
struct Quarantined<'a> {
    origin: &'a Origin,
    event_id: Option<&'a str>,
    reason: &'a str,
    error: &'a str,
    record: &'a [u8],
}

impl Quarantined<'_> {
    async fn insert(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        let shortened = |text: &str| -> String {
            text.chars()
                .take(QUARANTINED_ID_CHARS)
                .filter(|c| *c != '\0')
                .collect()
        };
        sqlx::query(
            "INSERT INTO projection_quarantine (topic, partition, record_offset, event_id, reason, error, record) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&self.origin.topic)
        .bind(self.origin.partition)
        .bind(self.origin.offset)
        .bind(self.event_id.map(shortened))
        .bind(self.reason)
        .bind(self.error.replace('\0', ""))
        .bind(self.record)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// The raw side: the newest raw record supplies the fields, the first one the
/// acceptance time, and a newer generation than the row's status restarts it
/// at `accepted` (e.g. after a redrive). Maxima and minima only, so any
/// replay or batching of the same records leaves the same row. The row's
/// searchable text goes to `event_search` in the same statement, written
/// only when it changed, so the trigram index is not touched again when a
/// raw record is replayed or the status moves (migration 0011).
async fn upsert_raw(tx: &mut Transaction<'_, Postgres>, batch: &Batch) -> Result<(), sqlx::Error> {
    let raw = batch.raw_by_id();
    if raw.is_empty() {
        return Ok(());
    }
    // Sent as text and cast to `json`, which keeps each number as the record
    // wrote it; jsonb would rewrite 1.7976931348623157e308 as 309 digits that
    // many JSON readers (serde_json among them) refuse.
    let extras = raw
        .iter()
        .map(|r| serde_json::to_string(&r.newest.extra))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| sqlx::Error::Encode(error.into()))?;
    // Bound by reference: bodies run to 64 KiB, and a batch holds thousands.
    sqlx::query(
        r#"
        WITH projected AS (
        INSERT INTO events AS e (id, name, body, event_timestamp, extra, accepted_at, last_accepted_at,
                                 trace_id, correlation_id, status, status_generation, status_rank,
                                 status_attempt, status_at, updated_at)
        SELECT r.id, r.name, r.body, r.ts, r.extra::json, r.first_at, r.last_at,
               r.trace_id, r.correlation_id, 'accepted', r.generation, 0, 0,
               r.generation_at, r.last_at
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                    $6::timestamptz[], $7::timestamptz[], $8::text[], $9::int[], $10::timestamptz[],
                    $11::text[])
             AS r(id, name, body, ts, extra, first_at, last_at, trace_id, generation, generation_at,
                  correlation_id)
        ON CONFLICT (id) DO UPDATE SET
            name = CASE WHEN EXCLUDED.last_accepted_at > COALESCE(e.last_accepted_at, '-infinity')
                        THEN EXCLUDED.name ELSE e.name END,
            body = CASE WHEN EXCLUDED.last_accepted_at > COALESCE(e.last_accepted_at, '-infinity')
                        THEN EXCLUDED.body ELSE e.body END,
            event_timestamp = CASE WHEN EXCLUDED.last_accepted_at > COALESCE(e.last_accepted_at, '-infinity')
                        THEN EXCLUDED.event_timestamp ELSE e.event_timestamp END,
            extra = CASE WHEN EXCLUDED.last_accepted_at > COALESCE(e.last_accepted_at, '-infinity')
                        THEN EXCLUDED.extra ELSE e.extra END,
            trace_id = CASE WHEN EXCLUDED.last_accepted_at > COALESCE(e.last_accepted_at, '-infinity')
                        THEN EXCLUDED.trace_id ELSE e.trace_id END,
            correlation_id = CASE WHEN EXCLUDED.last_accepted_at > COALESCE(e.last_accepted_at, '-infinity')
                        THEN EXCLUDED.correlation_id ELSE e.correlation_id END,
            last_accepted_at = GREATEST(e.last_accepted_at, EXCLUDED.last_accepted_at),
            accepted_at = LEAST(e.accepted_at, EXCLUDED.accepted_at),
            status = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN 'accepted' ELSE e.status END,
            status_rank = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN 0 ELSE e.status_rank END,
            status_attempt = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN 0 ELSE e.status_attempt END,
            status_at = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status_at
                          WHEN (EXCLUDED.status_generation, 0, 0) = (e.status_generation, e.status_rank, e.status_attempt)
                          THEN LEAST(e.status_at, EXCLUDED.status_at)
                          ELSE e.status_at END,
            delivered_at = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN NULL ELSE e.delivered_at END,
            status_generation = GREATEST(e.status_generation, EXCLUDED.status_generation),
            updated_at = GREATEST(e.updated_at, EXCLUDED.updated_at)
        RETURNING e.id, e.name, e.body
        )
        INSERT INTO event_search AS s (id, document)
        SELECT id, coalesce(name, '') || ' ' || coalesce(body, '') FROM projected
        ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document
        WHERE s.document IS DISTINCT FROM EXCLUDED.document
        "#,
    )
    .bind(raw.iter().map(|r| r.newest.id.as_str()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.newest.name.as_str()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.newest.body.as_str()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.newest.timestamp).collect::<Vec<_>>())
    .bind(&extras)
    .bind(raw.iter().map(|r| r.first_accepted_at).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.newest.received_at).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.newest.trace_id.as_str()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| to_i32(r.generation)).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.generation_accepted_at).collect::<Vec<_>>())
    .bind(
        raw.iter()
            .map(|r| r.newest.correlation_id.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The status side. The status moves only forward by (generation, rank,
/// attempt); the HTTP status and the error each come from the furthest record
/// that carried one; `updated_at` is the newest record's time. Late or
/// replayed records change nothing, whatever order they arrive in.
async fn upsert_statuses(
    tx: &mut Transaction<'_, Postgres>,
    batch: &Batch,
) -> Result<(), sqlx::Error> {
    let statuses = batch.statuses_by_id();
    if statuses.is_empty() {
        return Ok(());
    }
    let order_of = |record: Option<&StatusRecord>| {
        let order = record.map(order);
        (
            order.map(|(generation, _, _)| to_i32(generation)),
            order.map(|(_, rank, _)| rank),
            order.map(|(_, _, attempt)| to_i32(attempt)),
        )
    };
    let (http_generations, http_ranks, http_attempts): (Vec<_>, Vec<_>, Vec<_>) =
        statuses.iter().map(|s| order_of(s.last_http)).collect();
    let (error_generations, error_ranks, error_attempts): (Vec<_>, Vec<_>, Vec<_>) =
        statuses.iter().map(|s| order_of(s.last_error)).collect();
    sqlx::query(
        r#"
        INSERT INTO events AS e (id, brand, trace_id, status, status_generation, status_rank, status_attempt,
                                 status_at, delivered_at, last_http_status, last_http_order,
                                 last_error_kind, last_error_message, last_error_order, updated_at)
        SELECT s.id, s.brand, s.trace_id, s.status, s.generation, s.rank, s.attempt, s.at,
               CASE WHEN s.status = 'delivered' THEN s.at END,
               s.http_status, CASE WHEN s.http_generation IS NOT NULL
                                   THEN ARRAY[s.http_generation, s.http_rank, s.http_attempt] END,
               s.error_kind, s.error_message, CASE WHEN s.error_generation IS NOT NULL
                                   THEN ARRAY[s.error_generation, s.error_rank, s.error_attempt] END,
               s.newest_at
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::smallint[], $7::int[],
                    $8::timestamptz[], $9::int[], $10::int[], $11::int[], $12::int[],
                    $13::text[], $14::text[], $15::int[], $16::int[], $17::int[], $18::timestamptz[])
             AS s(id, brand, trace_id, status, generation, rank, attempt,
                  at, http_status, http_generation, http_rank, http_attempt,
                  error_kind, error_message, error_generation, error_rank, error_attempt, newest_at)
        ON CONFLICT (id) DO UPDATE SET
            brand = COALESCE(e.brand, EXCLUDED.brand),
            trace_id = COALESCE(e.trace_id, EXCLUDED.trace_id),
            status = CASE WHEN (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                             > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status ELSE e.status END,
            status_generation = CASE WHEN (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                             > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status_generation ELSE e.status_generation END,
            status_rank = CASE WHEN (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                             > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status_rank ELSE e.status_rank END,
            status_attempt = CASE WHEN (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                             > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status_attempt ELSE e.status_attempt END,
            status_at = CASE WHEN (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                             > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status_at ELSE e.status_at END,
            delivered_at = CASE WHEN (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                             > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.delivered_at ELSE e.delivered_at END,
            last_http_status = CASE WHEN EXCLUDED.last_http_order > COALESCE(e.last_http_order, '{}')
                          THEN EXCLUDED.last_http_status ELSE e.last_http_status END,
            last_http_order = CASE WHEN EXCLUDED.last_http_order > COALESCE(e.last_http_order, '{}')
                          THEN EXCLUDED.last_http_order ELSE e.last_http_order END,
            last_error_kind = CASE WHEN EXCLUDED.last_error_order > COALESCE(e.last_error_order, '{}')
                          THEN EXCLUDED.last_error_kind ELSE e.last_error_kind END,
            last_error_message = CASE WHEN EXCLUDED.last_error_order > COALESCE(e.last_error_order, '{}')
                          THEN EXCLUDED.last_error_message ELSE e.last_error_message END,
            last_error_order = CASE WHEN EXCLUDED.last_error_order > COALESCE(e.last_error_order, '{}')
                          THEN EXCLUDED.last_error_order ELSE e.last_error_order END,
            updated_at = GREATEST(e.updated_at, EXCLUDED.updated_at)
        WHERE (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
                > (e.status_generation, e.status_rank, e.status_attempt)
           OR EXCLUDED.last_http_order > COALESCE(e.last_http_order, '{}')
           OR EXCLUDED.last_error_order > COALESCE(e.last_error_order, '{}')
           OR EXCLUDED.updated_at > e.updated_at
           OR (e.brand IS NULL AND EXCLUDED.brand IS NOT NULL)
           OR (e.trace_id IS NULL AND EXCLUDED.trace_id IS NOT NULL)
        "#,
    )
    .bind(statuses.iter().map(|s| s.furthest.id.as_str()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.furthest.brand.as_deref()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.furthest.trace_id.as_str()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.furthest.status.as_str()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| to_i32(s.furthest.generation)).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.furthest.status.rank()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| to_i32(s.furthest.attempt)).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.furthest.at).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.last_http.and_then(|h| h.http_status).map(i32::from)).collect::<Vec<_>>())
    .bind(http_generations)
    .bind(http_ranks)
    .bind(http_attempts)
    .bind(statuses.iter().map(|s| s.last_error.and_then(|e| e.error_kind).map(|k| k.as_str())).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.last_error.and_then(|e| e.error_message.as_deref())).collect::<Vec<_>>())
    .bind(error_generations)
    .bind(error_ranks)
    .bind(error_attempts)
    .bind(statuses.iter().map(|s| s.newest_at).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every status an event went through, including `accepted` per generation.
async fn insert_history(
    tx: &mut Transaction<'_, Postgres>,
    batch: &Batch,
) -> Result<(), sqlx::Error> {
    let mut ids = Vec::new();
    let mut generations = Vec::new();
    let mut statuses = Vec::new();
    let mut attempts = Vec::new();
    let mut ats = Vec::new();
    let mut http_statuses = Vec::new();
    let mut kinds = Vec::new();
    let mut messages = Vec::new();
    let mut latencies = Vec::new();
    for raw in &batch.raw {
        ids.push(raw.id.as_str());
        generations.push(to_i32(raw.generation));
        statuses.push(Status::Accepted.as_str());
        attempts.push(0);
        ats.push(raw.received_at);
        http_statuses.push(None);
        kinds.push(None);
        messages.push(None);
        latencies.push(None);
    }
    for status in &batch.statuses {
        ids.push(status.id.as_str());
        generations.push(to_i32(status.generation));
        statuses.push(status.status.as_str());
        attempts.push(to_i32(status.attempt));
        ats.push(status.at);
        http_statuses.push(status.http_status.map(i32::from));
        kinds.push(status.error_kind.map(|k| k.as_str()));
        messages.push(status.error_message.as_deref());
        latencies.push(
            status
                .latency_ms
                .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        );
    }
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        r#"
        INSERT INTO event_history (event_id, generation, status, attempt, at, http_status, error_kind, error_message, latency_ms)
        SELECT * FROM UNNEST($1::text[], $2::int[], $3::text[], $4::int[], $5::timestamptz[], $6::int[],
                             $7::text[], $8::text[], $9::bigint[])
        ON CONFLICT DO NOTHING
        "#,
    )
    .bind(ids)
    .bind(generations)
    .bind(statuses)
    .bind(attempts)
    .bind(ats)
    .bind(http_statuses)
    .bind(kinds)
    .bind(messages)
    .bind(latencies)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Generations and attempts are small counters; saturate rather than wrap.
fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
