//! `dev/bench console`: fills a read model with searchable events, then
//! times search and the journey page against a running query service.
//!
//! Usage:
//!   `DATABASE_URL=... console_bench seed ROWS` — migrates, writes ROWS events
//!   (examples/seed_search.sql, stem `b`, half a second apart from
//!   2026-11-20) with their history, analyses; prints one JSON object.
//!   `DATABASE_URL=... console_bench measure BASE_URL READER_KEY SAMPLES` —
//!   one request at a time, SAMPLES of each kind (a tenth for text): prints
//!   one JSON object of p50/p99/max in ms per kind.

use std::time::Instant;

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

const SEED_SQL: &str = include_str!("seed_search.sql");
/// Rows per seeding statement.
const CHUNK: i64 = 100_000;

fn start() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-20 00:00 UTC)
}

async fn seed(pool: &PgPool, rows: i64) -> anyhow::Result<serde_json::Value> {
    let began = Instant::now();
    orch_query::migrate(pool).await?;
    let mut done = 0;
    while done < rows {
        let n = CHUNK.min(rows - done);
        // One statement per chunk, each with its own stem so ids stay unique.
        sqlx::query(SEED_SQL)
            .bind(start() + time::Duration::milliseconds(done * 500))
            .bind(n)
            .bind(500_000.0_f64)
            .bind(format!("b{}", done / CHUNK))
            .execute(pool)
            .await?;
        done += n;
        eprintln!("seeded {done} of {rows}");
    }
    sqlx::query("ANALYZE events").execute(pool).await?;
    sqlx::query("ANALYZE event_history").execute(pool).await?;
    sqlx::query("ANALYZE event_search").execute(pool).await?;
    Ok(serde_json::json!({"rows": rows, "seconds": began.elapsed().as_secs_f64()}))
}

/// One kind of request: its name and the paths to ask, one per sample.
struct Kind {
    name: &'static str,
    paths: Vec<String>,
}

fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

async fn kinds(pool: &PgPool, samples: usize) -> anyhow::Result<Vec<Kind>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261203);
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, correlation_id, trace_id, substr(body, strpos(body, '\"ref\":\"') + 7, 10) \
         FROM events TABLESAMPLE SYSTEM (1) LIMIT $1",
    )
    .bind(i64::try_from(samples)?)
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(rows.len() >= samples / 2, "too few events to sample");
    let text = (samples / 10).max(10);
    let names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Barbara Liskov",
    ];
    let absent = |rng: &mut rand::rngs::StdRng| -> String {
        (0..9).map(|_| rng.gen_range(b'k'..=b'z') as char).collect()
    };
    Ok(vec![
        Kind {
            name: "by id (GET /events/{id})",
            paths: rows
                .iter()
                .map(|r| format!("/events/{}", encode(&r.0)))
                .collect(),
        },
        Kind {
            name: "by correlation id",
            paths: rows
                .iter()
                .map(|r| format!("/events?correlation_id={}", encode(&r.1)))
                .collect(),
        },
        Kind {
            name: "by trace id",
            paths: rows
                .iter()
                .map(|r| format!("/events?trace_id={}", r.2))
                .collect(),
        },
        Kind {
            name: "text, one event (a unique reference)",
            paths: rows
                .iter()
                .take(text)
                .map(|r| format!("/events?q={}", encode(&r.3)))
                .collect(),
        },
        Kind {
            name: "text, a fifth of all events (a customer's name)",
            paths: (0..text)
                .map(|i| format!("/events?q={}", encode(names[i % names.len()])))
                .collect(),
        },
        Kind {
            name: "text, no event",
            paths: (0..text)
                .map(|_| format!("/events?q={}", absent(&mut rng)))
                .collect(),
        },
        Kind {
            name: "console: find by text (a unique reference)",
            paths: rows
                .iter()
                .take(text)
                .map(|r| format!("/console?q={}", encode(&r.3)))
                .collect(),
        },
        Kind {
            name: "console: journey page",
            paths: rows
                .iter()
                .map(|r| format!("/console/events/{}", encode(&r.0)))
                .collect(),
        },
    ])
}

async fn measure(
    pool: &PgPool,
    base: &str,
    key: &str,
    samples: usize,
) -> anyhow::Result<serde_json::Value> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let signed_in = http
        .post(format!("{base}/console/login"))
        .form(&[("key", key)])
        .send()
        .await?;
    anyhow::ensure!(signed_in.status() == 303, "sign-in: {}", signed_in.status());
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))?
        .to_owned();
    let mut figures = serde_json::Map::new();
    for kind in kinds(pool, samples).await? {
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        let mut found = 0usize;
        // A first pass warms the caches a running service would have warm.
        for path in kind.paths.iter().take(20) {
            let _ = http
                .get(format!("{base}{path}"))
                .bearer_auth(key)
                .header("cookie", &cookie)
                .send()
                .await?
                .bytes()
                .await?;
        }
        for path in &kind.paths {
            let began = Instant::now();
            let response = http
                .get(format!("{base}{path}"))
                .bearer_auth(key)
                .header("cookie", &cookie)
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            latency.saturating_record(u64::try_from(began.elapsed().as_micros())?.max(1));
            anyhow::ensure!(status.is_success(), "{path}: {status}");
            if body.windows(5).any(|w| w == b"\"id\":") || body.windows(6).any(|w| w == b"<time ") {
                found += 1;
            }
        }
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        eprintln!(
            "{}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests)",
            kind.name,
            ms(0.5),
            ms(0.99),
            latency.max() as f64 / 1000.0,
            latency.len()
        );
        figures.insert(
            kind.name.to_owned(),
            serde_json::json!({
                "requests": latency.len(),
                "answers_with_events": found,
                "p50_ms": ms(0.5),
                "p99_ms": ms(0.99),
                "max_ms": latency.max() as f64 / 1000.0,
            }),
        );
    }
    Ok(serde_json::Value::Object(figures))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = PgPool::connect(&std::env::var("DATABASE_URL")?).await?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["seed", rows] => seed(&pool, rows.parse()?).await?,
        ["measure", base, key, samples] => measure(&pool, base, key, samples.parse()?).await?,
        _ => anyhow::bail!("usage: console_bench seed ROWS | measure BASE_URL READER_KEY SAMPLES"),
    };
    println!("{out}");
    Ok(())
}
