//! The look-up benchmark's ceiling: the database answering the same one
//! round trip a look-up makes (the event joined with its history) for random
//! projected ids, from the same number of connections, with no HTTP, JSON or
//! auth in between. Prints one JSON object.
//!
//! Usage: `DATABASE_URL=... cargo run --release -p orch-query --example lookup_baseline IDS_FILE [CONNECTIONS] [SECONDS]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use sqlx::postgres::PgPoolOptions;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let mut args = std::env::args().skip(1);
    let ids_file = args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: lookup_baseline IDS_FILE [CONNECTIONS] [SECONDS]")
    })?;
    let connections: usize = args.next().map_or(Ok(8), |n| n.parse())?;
    let seconds: u64 = args.next().map_or(Ok(15), |n| n.parse())?;
    let ids: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(&ids_file)?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    );
    anyhow::ensure!(!ids.is_empty(), "{ids_file} holds no ids");
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(connections)?)
        .connect(&url)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..connections {
        let (pool, ids) = (pool.clone(), ids.clone());
        workers.push(tokio::spawn(async move {
            let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
            let mut i = worker * ids.len() / connections;
            while Instant::now() < deadline {
                let id = &ids[i % ids.len()];
                i += 1;
                let began = Instant::now();
                let rows = sqlx::query(orch_query::FIND_EVENT_SQL)
                    .bind(id)
                    .fetch_all(&pool)
                    .await?;
                anyhow::ensure!(!rows.is_empty(), "id {id} is not projected");
                latency.saturating_record(u64::try_from(began.elapsed().as_micros())?.max(1));
            }
            Ok(latency)
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for worker in workers {
        latency.add(worker.await??)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "connections": connections,
            "seconds": elapsed,
            "lookups_per_s": latency.len() as f64 / elapsed,
            "latency_ms": { "p50": ms(0.5), "p99": ms(0.99) },
        })
    );
    Ok(())
}
