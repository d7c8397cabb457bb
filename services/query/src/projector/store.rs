//! The batch upserts. Each statement is one round trip whatever the batch size
//! (arrays unnested server-side), and each is idempotent: replaying any records
//! any number of times leaves the same rows.

use orch_contracts::Status;
use sqlx::{PgPool, Postgres, Transaction};

use super::batch::Batch;

/// Writes `batch` in one transaction.
pub(crate) async fn write(pool: &PgPool, batch: &Batch) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    upsert_raw(&mut tx, batch).await?;
    upsert_statuses(&mut tx, batch).await?;
    insert_history(&mut tx, batch).await?;
    tx.commit().await
}

/// A raw record fills in the event's fields, and sets `accepted` only when it
/// starts a newer generation than the row's status (e.g. after a redrive).
async fn upsert_raw(tx: &mut Transaction<'_, Postgres>, batch: &Batch) -> Result<(), sqlx::Error> {
    let raw = batch.latest_raw();
    if raw.is_empty() {
        return Ok(());
    }
    sqlx::query(
        r#"
        INSERT INTO events AS e (id, name, body, event_timestamp, extra, accepted_at, trace_id,
                                 status, status_generation, status_rank, status_attempt, status_at)
        SELECT r.id, r.name, r.body, r.ts, r.extra, r.accepted_at, r.trace_id,
               'accepted', r.generation, 0, 0, r.accepted_at
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[],
                    $6::timestamptz[], $7::text[], $8::int[])
             AS r(id, name, body, ts, extra, accepted_at, trace_id, generation)
        ON CONFLICT (id) DO UPDATE SET
            name = EXCLUDED.name,
            body = EXCLUDED.body,
            event_timestamp = EXCLUDED.event_timestamp,
            extra = EXCLUDED.extra,
            accepted_at = LEAST(e.accepted_at, EXCLUDED.accepted_at),
            trace_id = COALESCE(e.trace_id, EXCLUDED.trace_id),
            status = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN 'accepted' ELSE e.status END,
            status_rank = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN 0 ELSE e.status_rank END,
            status_attempt = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN 0 ELSE e.status_attempt END,
            status_at = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN EXCLUDED.status_at ELSE e.status_at END,
            delivered_at = CASE WHEN (EXCLUDED.status_generation, 0, 0) > (e.status_generation, e.status_rank, e.status_attempt)
                          THEN NULL ELSE e.delivered_at END,
            status_generation = GREATEST(e.status_generation, EXCLUDED.status_generation),
            updated_at = now()
        "#,
    )
    .bind(raw.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.body.clone()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.timestamp).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| serde_json::Value::Object(r.extra.clone())).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.received_at).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| r.trace_id.clone()).collect::<Vec<_>>())
    .bind(raw.iter().map(|r| to_i32(r.generation)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A status record moves the row forward only if it is further along by
/// (generation, rank, attempt); late or replayed records change nothing.
async fn upsert_statuses(
    tx: &mut Transaction<'_, Postgres>,
    batch: &Batch,
) -> Result<(), sqlx::Error> {
    let statuses = batch.furthest_statuses();
    if statuses.is_empty() {
        return Ok(());
    }
    sqlx::query(
        r#"
        INSERT INTO events AS e (id, brand, trace_id, status, status_generation, status_rank, status_attempt,
                                 status_at, last_http_status, last_error_kind, last_error_message, delivered_at)
        SELECT s.id, s.brand, s.trace_id, s.status, s.generation, s.rank, s.attempt, s.at,
               s.http_status, s.error_kind, s.error_message,
               CASE WHEN s.status = 'delivered' THEN s.at END
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::smallint[], $7::int[],
                    $8::timestamptz[], $9::int[], $10::text[], $11::text[])
             AS s(id, brand, trace_id, status, generation, rank, attempt, at, http_status, error_kind, error_message)
        ON CONFLICT (id) DO UPDATE SET
            brand = COALESCE(EXCLUDED.brand, e.brand),
            trace_id = COALESCE(e.trace_id, EXCLUDED.trace_id),
            status = EXCLUDED.status,
            status_generation = EXCLUDED.status_generation,
            status_rank = EXCLUDED.status_rank,
            status_attempt = EXCLUDED.status_attempt,
            status_at = EXCLUDED.status_at,
            last_http_status = COALESCE(EXCLUDED.last_http_status, e.last_http_status),
            last_error_kind = COALESCE(EXCLUDED.last_error_kind, e.last_error_kind),
            last_error_message = COALESCE(EXCLUDED.last_error_message, e.last_error_message),
            delivered_at = COALESCE(EXCLUDED.delivered_at, e.delivered_at),
            updated_at = now()
        WHERE (EXCLUDED.status_generation, EXCLUDED.status_rank, EXCLUDED.status_attempt)
            > (e.status_generation, e.status_rank, e.status_attempt)
        "#,
    )
    .bind(statuses.iter().map(|s| s.id.clone()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.brand.clone()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.trace_id.clone()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.status.as_str()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| to_i32(s.generation)).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.status.rank()).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| to_i32(s.attempt)).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.at).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.http_status.map(i32::from)).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.error_kind.map(|k| k.as_str())).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.error_message.clone()).collect::<Vec<_>>())
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
        ids.push(raw.id.clone());
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
        ids.push(status.id.clone());
        generations.push(to_i32(status.generation));
        statuses.push(status.status.as_str());
        attempts.push(to_i32(status.attempt));
        ats.push(status.at);
        http_statuses.push(status.http_status.map(i32::from));
        kinds.push(status.error_kind.map(|k| k.as_str()));
        messages.push(status.error_message.clone());
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
