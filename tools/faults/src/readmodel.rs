//! What the run's Postgres read model holds, read directly with SQL.

use std::collections::HashMap;

use sqlx::PgPool;

/// A status's place in the projection's order: (generation, rank, attempt).
pub(crate) type Order = (i32, i16, i32);

/// One row of `events`, as the checks need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) name: Option<String>,
    pub(crate) body: Option<String>,
    pub(crate) brand: Option<String>,
    pub(crate) unix_seconds: Option<i64>,
    pub(crate) status_generation: i32,
    pub(crate) status_rank: i16,
    pub(crate) status_attempt: i32,
}

impl Row {
    /// Its place in the order statuses may only move forward in.
    pub(crate) fn order(&self) -> Order {
        (
            self.status_generation,
            self.status_rank,
            self.status_attempt,
        )
    }

    /// Whether the event has reached an end.
    pub(crate) fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "delivered" | "dead_lettered")
    }
}

/// Every row of the run's `events` table, by id.
pub(crate) async fn rows(pool: &PgPool) -> sqlx::Result<HashMap<String, Row>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, status, name, body, brand,
                floor(extract(epoch FROM event_timestamp))::bigint AS unix_seconds,
                status_generation, status_rank, status_attempt
         FROM events",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
}
