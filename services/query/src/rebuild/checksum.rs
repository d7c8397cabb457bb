//! Comparing two read models: a checksum of every column of every row, and
//! the ids whose rows differ.

use sqlx::PgPool;

use super::SchemaName;

/// Row counts and an md5 over every column of every row, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub events: i64,
    pub events_md5: String,
    pub history: i64,
    pub history_md5: String,
}

/// Which events differ between two models, with a few ids to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub events: i64,
    pub sample_ids: Vec<String>,
}

/// The checksum of the model in `schema`. A row's text form holds every
/// column, so any difference in any column changes the sum.
pub async fn checksum(pool: &PgPool, schema: &SchemaName) -> Result<Checksum, sqlx::Error> {
    let table_sum = |table: &str, key: &str| {
        format!(
            "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY {key})), '') \
             FROM {schema}.{table} t"
        )
    };
    let (events, events_md5): (i64, String) = sqlx::query_as(&table_sum("events", "id"))
        .fetch_one(pool)
        .await?;
    let (history, history_md5): (i64, String) = sqlx::query_as(&table_sum(
        "event_history",
        "event_id, generation, status, attempt",
    ))
    .fetch_one(pool)
    .await?;
    Ok(Checksum {
        events,
        events_md5,
        history,
        history_md5,
    })
}

/// Events whose row or history differs between `a` and `b`, including those
/// present in only one of them.
pub async fn differences(
    pool: &PgPool,
    a: &SchemaName,
    b: &SchemaName,
    sample: i64,
) -> Result<Difference, sqlx::Error> {
    let per_event = |schema: &SchemaName| {
        format!(
            "SELECT e.id, md5(e::text || coalesce((SELECT string_agg(h::text, '' \
                 ORDER BY h.generation, h.status, h.attempt) \
                 FROM {schema}.event_history h WHERE h.event_id = e.id), '')) AS sum \
             FROM {schema}.events e"
        )
    };
    let differing = format!(
        "WITH a AS ({}), b AS ({}), \
         d AS (SELECT coalesce(a.id, b.id) AS id FROM a FULL JOIN b ON a.id = b.id \
               WHERE a.sum IS DISTINCT FROM b.sum) \
         SELECT (SELECT count(*) FROM d), \
                coalesce((SELECT array_agg(id) FROM (SELECT id FROM d ORDER BY id LIMIT $1) s), '{{}}')",
        per_event(a),
        per_event(b)
    );
    let (events, sample_ids): (i64, Vec<String>) = sqlx::query_as(&differing)
        .bind(sample)
        .fetch_one(pool)
        .await?;
    Ok(Difference { events, sample_ids })
}
