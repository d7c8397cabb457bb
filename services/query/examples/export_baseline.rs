//! The export benchmark's parts: filling a read model, and its ceiling —
//! reading the same keyset pages an export reads, with no formatting and
//! no upload. Prints one JSON object.
//!
//! Usage (`DATABASE_URL` set):
//!   `export_baseline seed COUNT FROM`   events accepted through the day from FROM
//!   `export_baseline read FROM TO PAGE` the bare keyset read of [FROM, TO)

use std::time::Instant;

use sqlx::Row;
use sqlx::postgres::PgPoolOptions;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const SEED_SQL: &str = include_str!("seed_events.sql");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await?;
    orch_query::migrate(&pool).await?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let time = |i: usize| -> anyhow::Result<OffsetDateTime> {
        Ok(OffsetDateTime::parse(
            args.get(i).map_or("", String::as_str),
            &Rfc3339,
        )?)
    };
    match args.first().map(String::as_str) {
        Some("seed") => {
            let count: i64 = args.get(1).map_or(Ok(1_000_000), |n| n.parse())?;
            let started = Instant::now();
            sqlx::query(SEED_SQL)
                .bind(time(2)?)
                .bind(count)
                .bind(86_400_000_000f64 / count as f64)
                .bind("bench")
                .execute(&pool)
                .await?;
            sqlx::query("ANALYZE events").execute(&pool).await?;
            println!(
                "{{\"seeded\": {count}, \"seconds\": {:.3}}}",
                started.elapsed().as_secs_f64()
            );
        }
        Some("read") => {
            let (from, to) = (time(1)?, time(2)?);
            let page: i64 = args.get(3).map_or(Ok(5_000), |n| n.parse())?;
            let started = Instant::now();
            let (mut after_at, mut after_id, mut rows) = (from, String::new(), 0u64);
            loop {
                let found = sqlx::query(orch_query::EXPORT_PAGE_SQL)
                    .bind(after_at)
                    .bind(&after_id)
                    .bind(to)
                    .bind(None::<String>)
                    .bind(page)
                    .fetch_all(&pool)
                    .await?;
                let Some(last) = found.last() else { break };
                after_at = last.try_get("accepted_at")?;
                after_id = last.try_get("id")?;
                rows += found.len() as u64;
                if (found.len() as i64) < page {
                    break;
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{{\"rows\": {rows}, \"seconds\": {seconds:.3}, \"rows_per_sec\": {:.1}}}",
                rows as f64 / seconds
            );
        }
        _ => anyhow::bail!("usage: export_baseline seed COUNT FROM | read FROM TO PAGE"),
    }
    Ok(())
}
