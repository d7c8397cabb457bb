//! The projection benchmark's baseline: a bare UNNEST upsert of 1,000-row
//! batches into a four-column table, one round trip per batch, measured on
//! the same machine and database in the same run. Prints one JSON object.
//!
//! Usage: `DATABASE_URL=... cargo run --release -p orch-query --example unnest_baseline [ROWS]`

use std::time::Instant;

use sqlx::PgPool;
use time::OffsetDateTime;

const BATCH: usize = 1_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let rows: usize = std::env::args().nth(1).map_or(Ok(200_000), |n| n.parse())?;
    let pool = PgPool::connect(&url).await?;
    let table = format!("unnest_baseline_{}", std::process::id());
    sqlx::query(&format!(
        "CREATE TABLE {table} (id text PRIMARY KEY, status text, at timestamptz, n int)"
    ))
    .execute(&pool)
    .await?;
    let upsert = format!(
        "INSERT INTO {table} (id, status, at, n) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::int[]) \
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, at = EXCLUDED.at, n = EXCLUDED.n"
    );
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    for batch in 0..rows.div_ceil(BATCH) {
        let ids: Vec<String> = (0..BATCH).map(|i| format!("e-{batch}-{i}")).collect();
        sqlx::query(&upsert)
            .bind(&ids)
            .bind(vec!["delivered"; BATCH])
            .bind(vec![now; BATCH])
            .bind((0..BATCH as i32).collect::<Vec<_>>())
            .execute(&pool)
            .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&pool)
        .await?;
    let written = rows.div_ceil(BATCH) * BATCH;
    println!(
        "{}",
        serde_json::json!({
            "rows": written,
            "batch": BATCH,
            "seconds": seconds,
            "rows_per_s": written as f64 / seconds,
        })
    );
    Ok(())
}
