//! `spawn_*` helpers: start the services like `main` does, on port 0, each
//! test in its own namespace (topic prefix, groups, database).

use std::net::SocketAddr;
use std::time::Duration;

use orch_command::CommandConfig;
use orch_dispatcher::DispatcherConfig;
use orch_kafka::KafkaConfig;
use orch_query::QueryConfig;
use orch_sandbox_target::SandboxConfig;
use orch_telemetry::{LogFormat, TelemetryConfig};
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;

pub(crate) const SOURCE_KEY: &str = "test-source-key";
pub(crate) const READER_KEY: &str = "test-reader-key";
pub(crate) const TARGET_TOKEN: &str = "test-target-token";
/// How long a test waits for the pipeline before failing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) fn bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

pub(crate) fn admin_database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        "postgres://orchestrator:orchestrator@127.0.0.1:5432/orchestrator".into()
    })
}

fn quiet() -> TelemetryConfig {
    TelemetryConfig {
        log_format: LogFormat::Text,
        log_filter: "warn".into(),
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// One test's namespace and the services it started; stops them when dropped.
#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) prefix: String,
    pub(crate) kafka: KafkaConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) command_url: String,
    pub(crate) query_url: String,
    pub(crate) target_url: String,
    shutdown: CancellationToken,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Which parts of the pipeline a test needs.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// The token the dispatcher presents to the target (defaults to the right one).
    pub(crate) dispatcher_token: Option<String>,
    pub(crate) without_dispatcher: bool,
    pub(crate) without_query: bool,
}

pub(crate) async fn spawn_pipeline(options: Options) -> Pipeline {
    let prefix = format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    // Few partitions: a single local broker carries every test's topics.
    let kafka = KafkaConfig {
        kafka_topic_partitions: 3,
        ..KafkaConfig::local(&bootstrap(), &prefix)
    };
    let shutdown = CancellationToken::new();

    let target = orch_sandbox_target::Application::build(SandboxConfig {
        listen_addr: any_port(),
        token: Some(TARGET_TOKEN.into()),
        rate_limit_per_sec: 0,
        telemetry: quiet(),
    })
    .await
    .expect("sandbox target starts");
    let target_url = format!("http://{}", target.local_addr());
    tokio::spawn(target.run(shutdown.clone()));

    let command = orch_command::Application::build(CommandConfig {
        listen_addr: any_port(),
        source_key_hashes: orch_http::ApiKeys::parse(&orch_http::hash_key(SOURCE_KEY)).unwrap(),
        max_body_bytes: 64 * 1024,
        publish_timeout_ms: 5_000,
        status_base_url: "http://query.test".into(),
        kafka: kafka.clone(),
        telemetry: quiet(),
    })
    .await
    .expect("command service starts");
    let command_url = format!("http://{}", command.local_addr());
    tokio::spawn(command.run(shutdown.clone()));

    if !options.without_dispatcher {
        let dispatcher = orch_dispatcher::Application::build(DispatcherConfig {
            listen_addr: any_port(),
            group_id: format!("{prefix}dispatcher"),
            target_url: format!("{target_url}/graphql"),
            target_token: Some(
                options
                    .dispatcher_token
                    .unwrap_or_else(|| TARGET_TOKEN.into()),
            ),
            request_timeout_ms: 5_000,
            rate_limit_per_sec: 1_000,
            max_attempts: 3,
            backoff_base_ms: 10,
            backoff_max_ms: 100,
            brand: "testBrand".into(),
            kafka: kafka.clone(),
            telemetry: quiet(),
        })
        .await
        .expect("dispatcher starts");
        tokio::spawn(dispatcher.run(shutdown.clone()));
    }

    let database_url = create_database(&prefix).await;
    let mut query_url = String::new();
    if !options.without_query {
        let query = orch_query::Application::build(QueryConfig {
            listen_addr: any_port(),
            reader_key_hashes: orch_http::ApiKeys::parse(&orch_http::hash_key(READER_KEY)).unwrap(),
            database_url: database_url.clone().into(),
            db_max_connections: 5,
            group_id: format!("{prefix}projector"),
            batch_max: 500,
            batch_wait_ms: 10,
            kafka: kafka.clone(),
            telemetry: quiet(),
        })
        .await
        .expect("query service starts");
        query_url = format!("http://{}", query.local_addr());
        tokio::spawn(query.run(shutdown.clone()));
    }

    Pipeline {
        prefix,
        kafka,
        http: reqwest::Client::new(),
        command_url,
        query_url,
        target_url,
        shutdown,
    }
}

/// A fresh, empty database for one test.
async fn create_database(prefix: &str) -> String {
    let name = format!("orch_{}", prefix.trim_end_matches('.'));
    let admin_url = admin_database_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("admin connection to Postgres");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

impl Pipeline {
    /// POSTs `body` as JSON with the source key.
    pub(crate) async fn post_event(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/events", self.command_url))
            .bearer_auth(SOURCE_KEY)
            .json(body)
            .send()
            .await
            .expect("command service answers")
    }

    /// GET /events/{id} with the reader key: (status code, body).
    pub(crate) async fn get_event(&self, id: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/events/{id}", self.query_url))
            .bearer_auth(READER_KEY)
            .send()
            .await
            .expect("query service answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls the query service until `id` has `status`, or fails after PATIENCE.
    pub(crate) async fn await_status(&self, id: &str, status: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (code, body) = self.get_event(id).await;
            if code == 200 && body["status"] == status {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "event {id} did not reach {status} within {PATIENCE:?}; last answer {code}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a GraphQL query against the sandbox target.
    pub(crate) async fn target_graphql(&self, query: &str, variables: Value) -> Value {
        self.http
            .post(format!("{}/graphql", self.target_url))
            .bearer_auth(TARGET_TOKEN)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("sandbox target answers")
            .json()
            .await
            .expect("sandbox target answers JSON")
    }

    /// The sandbox target's counters.
    pub(crate) async fn target_stats(&self) -> orch_sandbox_target::Stats {
        self.http
            .get(format!("{}/stats", self.target_url))
            .send()
            .await
            .expect("sandbox target answers")
            .json()
            .await
            .expect("stats are JSON")
    }

    /// Reads `count` records from the start of `topic` (fails after PATIENCE).
    pub(crate) async fn read_topic(&self, topic: &str, count: usize) -> Vec<OwnedMessage> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap())
            .set(
                "group.id",
                format!("{}reader-{}", self.prefix, uuid::Uuid::new_v4().simple()),
            )
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .expect("test consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        let mut messages = Vec::new();
        while messages.len() < count {
            let message = tokio::time::timeout(PATIENCE, consumer.recv())
                .await
                .unwrap_or_else(|_| panic!("only {} of {count} records on {topic}", messages.len()))
                .expect("consume");
            messages.push(message.detach());
        }
        messages
    }

    /// How many records `topic` holds (sum of high watermarks). Retries while a
    /// just-created topic has no leader yet.
    pub(crate) async fn topic_size(&self, topic: &str) -> i64 {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let name = topic.to_owned();
            let size = tokio::task::spawn_blocking(move || watermark_sum(&name))
                .await
                .expect("watermark task");
            match size {
                Ok(size) => return size,
                Err(error) if tokio::time::Instant::now() < deadline => {
                    eprintln!("watermarks not available yet ({error}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("watermarks of {topic}: {error}"),
            }
        }
    }
}

fn watermark_sum(topic: &str) -> Result<i64, rdkafka::error::KafkaError> {
    let consumer: rdkafka::consumer::BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut sum = 0;
    for partition in metadata.topics()[0].partitions() {
        let (low, high) =
            consumer.fetch_watermarks(topic, partition.id(), Duration::from_secs(10))?;
        sum += high - low;
    }
    Ok(sum)
}

/// A valid event body with id `id`.
pub(crate) fn event(id: &str) -> Value {
    json!({
        "id": id,
        "name": "test event",
        "body": "test body",
        "timestamp": "2026-11-21T10:00:00Z",
    })
}
