use std::process::{Child, Command, Stdio};
use std::time::Duration;

use orch_objects::ObjectStoreConfig;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) const READER_KEY: &str = "test-reader-key";
/// Projected events, written straight into the read model (shared with
/// the export benchmark).
const SEED_SQL: &str = include_str!("../../examples/seed_events.sql");
/// Projected events with correlation ids, trace ids, words and failures,
/// and their history (shared with the console benchmark).
const SEED_SEARCH_SQL: &str = include_str!("../../examples/seed_search.sql");

/// One test's namespace: its database and its bucket.
pub(crate) struct Namespace {
    pub(crate) prefix: String,
    pub(crate) database_url: String,
    pub(crate) store: ObjectStoreConfig,
}

impl Namespace {
    pub(crate) async fn new() -> Self {
        let prefix = orch_testkit::unique_prefix();
        let database_url = orch_testkit::create_database(&prefix).await;
        let store = orch_testkit::objects::create_bucket(&prefix).await;
        Self {
            prefix,
            database_url,
            store,
        }
    }

    /// The database, once a service has migrated it.
    pub(crate) async fn pool(&self) -> PgPool {
        PgPool::connect(&self.database_url).await.expect("database")
    }
}

/// A query service process; killed when dropped.
pub(crate) struct QueryProcess {
    child: Child,
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
}

impl QueryProcess {
    /// Starts `orch-query` in `ns` with `env` on top and waits until ready.
    pub(crate) async fn start(ns: &Namespace, env: &[(&str, &str)]) -> Self {
        let port = orch_testkit::free_port();
        let log = std::env::temp_dir().join(format!(
            "orch-exports-{}.log",
            ns.prefix.trim_end_matches('.')
        ));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let endpoint = ns.store.endpoint.as_ref().expect("a test store");
        let child = Command::new(env!("CARGO_BIN_EXE_orch-query"))
            .env("QUERY_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("QUERY_READER_KEY_HASHES", orch_http::hash_key(READER_KEY))
            .env("DATABASE_URL", &ns.database_url)
            .env("KAFKA_BOOTSTRAP_SERVERS", orch_testkit::bootstrap())
            .env("KAFKA_TOPIC_PREFIX", &ns.prefix)
            .env("OBJECT_STORE_BUCKET", ns.store.bucket.as_deref().unwrap())
            .env("OBJECT_STORE_PREFIX", &ns.store.prefix)
            .envs(endpoint.aws_env())
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "info,rdkafka=warn")
            .envs(env.iter().copied())
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("start orch-query");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
        while !http
            .get(format!("{url}/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "orch-query did not become ready; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, url, http }
    }

    /// SIGKILL, and waits until the process is gone.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("kill orch-query");
        self.child.wait().expect("reap orch-query");
    }

    /// The process's peak resident memory (VmHWM), in KiB.
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }

    /// POST /exports with `body`: (status, Location, body).
    pub(crate) async fn post_export(&self, body: &Value) -> (u16, Option<String>, Value) {
        let response = self
            .http
            .post(format!("{}/exports", self.url))
            .bearer_auth(READER_KEY)
            .json(body)
            .send()
            .await
            .expect("query answers");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (
            status,
            location,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// GET `path` with the reader key: (status, content type, JSON body or null).
    pub(crate) async fn get_answer(&self, path: &str) -> (u16, String, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(READER_KEY)
            .send()
            .await
            .expect("query answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            content_type,
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// GET `path` (e.g. the Location of a job) with the reader key.
    pub(crate) async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(READER_KEY)
            .send()
            .await
            .expect("query answers")
            .json()
            .await
            .expect("JSON")
    }

    /// Polls the job at `location` until `done` says so.
    pub(crate) async fn await_job(
        &self,
        location: &str,
        patience: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let job = self.get(location).await;
            if done(&job) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job never reached the awaited state: {job}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for QueryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Midnight UTC starting the exported day.
pub(crate) fn day() -> OffsetDateTime {
    time::macros::datetime!(2026-11-24 00:00 UTC)
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

/// An export request for the whole day.
pub(crate) fn the_day(format: &str) -> Value {
    json!({"from": rfc3339(day()), "to": rfc3339(day() + time::Duration::days(1)), "format": format})
}

/// Writes `count` projected events accepted through the day (every tenth
/// dead-lettered), and 1,000 on each side of it that no export of the day
/// may hold.
pub(crate) async fn seed(pool: &PgPool, count: i64) {
    let spacing_us = 86_400_000_000 / count;
    for (from, n, spacing, stem) in [
        (day(), count, spacing_us, "in"),
        (day() - time::Duration::hours(1), 1_000, 1_000, "before"),
        (day() + time::Duration::days(1), 1_000, 1_000, "after"),
    ] {
        sqlx::query(SEED_SQL)
            .bind(from)
            .bind(n)
            .bind(spacing as f64)
            .bind(stem)
            .execute(pool)
            .await
            .expect("seed events");
    }
}

/// Writes `count` searchable events accepted from `from`, `spacing_us`
/// apart, ids `<stem>-<n>` (see examples/seed_search.sql).
pub(crate) async fn seed_search(
    pool: &PgPool,
    from: OffsetDateTime,
    count: i64,
    spacing_us: i64,
    stem: &str,
) {
    sqlx::query(SEED_SEARCH_SQL)
        .bind(from)
        .bind(count)
        .bind(spacing_us as f64)
        .bind(stem)
        .execute(pool)
        .await
        .expect("seed searchable events");
}
