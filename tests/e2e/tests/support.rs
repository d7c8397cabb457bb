//! `spawn_*` helpers: start the services like `main` does, on port 0, each
//! test in its own namespace (topic prefix, groups, database).

use std::net::SocketAddr;
use std::time::Duration;

use orch_command::CommandConfig;
use orch_dispatcher::DispatcherConfig;
use orch_kafka::KafkaConfig;
use orch_query::QueryConfig;
use orch_sandbox_target::SandboxConfig;
use orch_telemetry::TelemetryConfig;
use rdkafka::message::OwnedMessage;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub(crate) const SOURCE_KEY: &str = "test-source-key";
pub(crate) const READER_KEY: &str = "test-reader-key";
/// The console's acting key, named `ops-test` in the audit log.
pub(crate) const OPS_KEY: &str = "test-ops-key";
pub(crate) const TARGET_TOKEN: &str = "test-target-token";
pub(crate) use orch_testkit::{PATIENCE, bootstrap};
/// The query service's trace link template in tests.
pub(crate) const TRACE_URL_TEMPLATE: &str = "http://traces.test/trace/{trace_id}";

fn quiet() -> TelemetryConfig {
    TelemetryConfig {
        log_filter: "warn".into(),
        ..TelemetryConfig::local()
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// One test's namespace and the services it started; stops them when dropped.
#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) kafka: KafkaConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) command_url: String,
    pub(crate) query_url: String,
    pub(crate) target_url: String,
    /// The dispatcher's ops address (fixed, so the console can ask it).
    pub(crate) dispatcher_url: String,
    /// The test's own database.
    pub(crate) database_url: String,
    /// The command service's settings.
    pub(crate) command_config: CommandConfig,
    /// The dispatcher's settings, so a test can stop and start it again.
    pub(crate) dispatcher_config: DispatcherConfig,
    /// The query service's settings, likewise.
    pub(crate) query_config: QueryConfig,
    dispatcher: Option<Running>,
    query: Option<Running>,
    /// Further query replicas, sharing the database and projector group.
    query_replicas: Vec<Running>,
    shutdown: CancellationToken,
}

/// A service running in this process, stoppable on its own.
#[derive(Debug)]
struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Runs `service` until the pipeline stops or [`Running::stop`] is called;
    /// a service that fails fails the test.
    fn spawn<F, E>(parent: &CancellationToken, service: impl FnOnce(CancellationToken) -> F) -> Self
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Debug,
    {
        let stop = parent.child_token();
        let run = service(stop.clone());
        let task = tokio::spawn(async move { run.await.expect("service stops cleanly") });
        Self { stop, task }
    }

    /// Stops gracefully and waits until the service has finished.
    async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("service task completes");
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Which parts of the pipeline a test needs.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Ids the target refuses with a 400, as a target refuses a bad event.
    pub(crate) refused_ids: Vec<String>,
    /// Ids the target answers 503 this many times before taking them.
    pub(crate) flaky_ids: Vec<(String, u32)>,
    pub(crate) without_dispatcher: bool,
    /// A bucket of the test's own for the query service's exports.
    pub(crate) exports: bool,
    pub(crate) without_query: bool,
    /// A database of the test's own server, instead of one on the shared server.
    pub(crate) database_url: Option<String>,
    /// A broker of the test's own and how to log in to it, instead of the
    /// shared broker in plaintext.
    pub(crate) kafka: Option<(String, orch_kafka::KafkaSecurity)>,
    /// The overdue limit and sweep cadence, instead of the service's defaults.
    pub(crate) overdue: Option<orch_query::OverdueConfig>,
}

pub(crate) async fn spawn_pipeline(options: Options) -> Pipeline {
    crate::traces::install();
    let prefix = orch_testkit::unique_prefix();
    // Few partitions: a single local broker carries every test's topics.
    let (bootstrap, security) = options
        .kafka
        .unwrap_or_else(|| (bootstrap(), Default::default()));
    let kafka = KafkaConfig {
        kafka_topic_partitions: 3,
        security,
        ..KafkaConfig::local(&bootstrap, &prefix)
    };
    let shutdown = CancellationToken::new();

    let target = orch_sandbox_target::Application::build(SandboxConfig {
        token: Some(TARGET_TOKEN.into()),
        faults: orch_sandbox_target::Faults {
            reject_ids: options.refused_ids.into_iter().collect(),
            flaky_ids: options.flaky_ids.into_iter().collect(),
            ..orch_sandbox_target::Faults::default()
        },
        ..SandboxConfig::local(0)
    })
    .await
    .expect("sandbox target starts");
    let target_url = format!("http://{}", target.local_addr());
    tokio::spawn(target.run(shutdown.clone()));

    let command_config = CommandConfig {
        listen_addr: any_port(),
        source_key_hashes: orch_http::ApiKeys::parse(&orch_http::hash_key(SOURCE_KEY)).unwrap(),
        max_body_bytes: 64 * 1024,
        publish_budget_ms: 5_000,
        request_deadline_ms: 10_000,
        kafka_linger_ms: 5,
        kafka_batch_bytes: 1_000_000,
        kafka_message_max_bytes: 1_000_000,
        kafka_message_timeout_ms: 10_000,
        spool_dir: spool_dir(&prefix),
        spool_max_bytes: 1 << 30,
        spool_segment_bytes: 64 << 20,
        status_base_url: "http://query.test".into(),
        kafka: kafka.clone(),
        http: orch_http::ServerLimits::default(),
        telemetry: quiet(),
    };
    let command = orch_command::Application::build(command_config.clone())
        .await
        .expect("command service starts");
    let command_url = format!("http://{}", command.local_addr());
    tokio::spawn(command.run(shutdown.clone()));

    // A port known before the dispatcher starts: the console asks it.
    let dispatcher_addr = SocketAddr::from(([127, 0, 0, 1], orch_testkit::free_port()));
    let dispatcher_config = DispatcherConfig {
        listen_addr: dispatcher_addr,
        group_id: format!("{prefix}dispatcher"),
        target_url: format!("{target_url}/graphql"),
        target_token: Some(TARGET_TOKEN.to_owned().into()),
        request_timeout_ms: 5_000,
        max_response_bytes: 1_048_576,
        max_retry_after_ms: 300_000,
        breaker_failure_run: 20,
        breaker_probe_base_ms: 1_000,
        breaker_probe_max_ms: 30_000,
        test_panic_id_prefix: None,
        rate_limit_per_sec: 1_000,
        max_in_flight_per_partition: 64,
        max_retry_elapsed_ms: 60_000,
        shutdown_grace_ms: 2_000,
        max_poll_interval_ms: 300_000,
        max_attempts: 3,
        backoff_base_ms: 10,
        backoff_max_ms: 100,
        brand: "testBrand".into(),
        kafka: kafka.clone(),
        http: orch_http::ServerLimits::default(),
        telemetry: quiet(),
    };

    let database_url = match options.database_url {
        Some(url) => url,
        None => orch_testkit::create_database(&prefix).await,
    };
    let query_config = QueryConfig {
        listen_addr: any_port(),
        reader_key_hashes: orch_http::ApiKeys::parse(&format!(
            "support-test={}",
            orch_http::hash_key(READER_KEY)
        ))
        .unwrap(),
        database_url: database_url.clone().into(),
        db_max_connections: 5,
        group_id: format!("{prefix}projector"),
        batch_max: 500,
        batch_wait_ms: 10,
        writer_buffer_bytes: 32 * 1024 * 1024,
        writers: 2,
        kafka: kafka.clone(),
        objects: if options.exports {
            orch_testkit::objects::create_bucket(&prefix).await
        } else {
            orch_objects::ObjectStoreConfig::default()
        },
        exports: orch_query::ExportSettings::default(),
        trace_url_template: Some(orch_query::TraceLink::parse(TRACE_URL_TEMPLATE).unwrap()),
        console: orch_query::ConsoleConfig {
            ops_key_hashes: Some(
                orch_http::ApiKeys::parse(&format!("ops-test={}", orch_http::hash_key(OPS_KEY)))
                    .unwrap(),
            ),
            session_minutes: 60,
            secure_cookie: orch_query::SecureCookie::Auto,
            dispatcher_urls: vec![format!("http://{dispatcher_addr}")],
            dispatcher_group_id: format!("{prefix}dispatcher"),
            redrive_max: 10_000,
        },
        overdue: options.overdue.unwrap_or_default(),
        http: orch_http::ServerLimits::default(),
        telemetry: quiet(),
    };

    let mut pipeline = Pipeline {
        kafka,
        http: reqwest::Client::new(),
        command_url,
        query_url: String::new(),
        target_url,
        dispatcher_url: format!("http://{dispatcher_addr}"),
        database_url,
        command_config,
        dispatcher_config,
        query_config,
        dispatcher: None,
        query: None,
        query_replicas: Vec::new(),
        shutdown,
    };
    if !options.without_query {
        pipeline.start_query().await;
    }
    if !options.without_dispatcher {
        pipeline.start_dispatcher().await;
    }
    pipeline
}

/// A fresh spool directory for one test's command service.
fn spool_dir(prefix: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("orch-spool-{}", prefix.trim_end_matches('.')))
}

impl Pipeline {
    /// Starts a dispatcher with `dispatcher_config`.
    pub(crate) async fn start_dispatcher(&mut self) {
        assert!(
            self.dispatcher.is_none(),
            "the dispatcher is running already"
        );
        let dispatcher = orch_dispatcher::Application::build(self.dispatcher_config.clone())
            .await
            .expect("dispatcher starts");
        self.dispatcher = Some(Running::spawn(&self.shutdown, |stop| dispatcher.run(stop)));
    }

    /// Stops the dispatcher gracefully and waits until it has left its group.
    /// Stops the consumers this pipeline runs (dispatcher, query replicas)
    /// and waits for each to leave its group. A test that takes its broker
    /// away calls this first: librdkafka's close of a consumer whose broker
    /// is gone waits for it for good (a CI run hung 20 min on that).
    pub(crate) async fn stop(mut self) {
        let replicas = std::mem::take(&mut self.query_replicas);
        for running in [self.dispatcher.take(), self.query.take()]
            .into_iter()
            .flatten()
            .chain(replicas)
        {
            running.stop().await;
        }
    }

    pub(crate) async fn stop_dispatcher(&mut self) {
        let running = self.dispatcher.take().expect("the dispatcher is running");
        running.stop().await;
    }

    /// Starts a query service with `query_config`, on a new port.
    pub(crate) async fn start_query(&mut self) {
        assert!(self.query.is_none(), "the query service is running already");
        let query = orch_query::Application::build(self.query_config.clone())
            .await
            .expect("query service starts");
        self.query_url = format!("http://{}", query.local_addr());
        self.query = Some(Running::spawn(&self.shutdown, |stop| query.run(stop)));
    }

    /// Starts one more query replica with `query_config`; returns its URL.
    pub(crate) async fn start_query_replica(&mut self) -> String {
        let query = orch_query::Application::build(self.query_config.clone())
            .await
            .expect("query replica starts");
        let url = format!("http://{}", query.local_addr());
        self.query_replicas
            .push(Running::spawn(&self.shutdown, |stop| query.run(stop)));
        url
    }

    /// Stops the query service gracefully; its projector leaves its group.
    pub(crate) async fn stop_query(&mut self) {
        let running = self.query.take().expect("the query service is running");
        running.stop().await;
    }

    /// POSTs `body` as JSON with the source key.
    pub(crate) async fn post_event(&self, body: &Value) -> reqwest::Response {
        self.post_event_bytes(serde_json::to_vec(body).expect("JSON serialises"))
            .await
    }

    /// POSTs `body` as it is, declared JSON, with the source key: for bodies
    /// serde_json would not write (hostile, malformed, or numbers as typed).
    pub(crate) async fn post_event_bytes(
        &self,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/events", self.command_url))
            .bearer_auth(SOURCE_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("command service answers")
    }

    /// GET /events/{id} with the reader key: (status code, body). The id is
    /// escaped as one path segment, whatever it holds.
    pub(crate) async fn get_event(&self, id: &str) -> (u16, Value) {
        let mut url = reqwest::Url::parse(&self.query_url).expect("query URL");
        url.path_segments_mut()
            .expect("an http URL has segments")
            .pop_if_empty()
            .push("events")
            .push(id);
        self.query_get(url.path()).await
    }

    /// GETs `path` (with its query string) from the query service with the
    /// reader key: (status code, body).
    pub(crate) async fn query_get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.query_url))
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

    /// Scrapes `/metrics` (one registry serves every service in this process)
    /// until `missing` finds nothing missing in it, or fails after PATIENCE
    /// naming what still is; returns the last scrape. Some series, like
    /// consumer lag, appear only with librdkafka's statistics, every few seconds.
    pub(crate) async fn await_metrics<T: std::fmt::Debug>(
        &self,
        missing: impl Fn(&str) -> Vec<T>,
    ) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let scrape = self
                .http
                .get(format!("{}/metrics", self.query_url))
                .send()
                .await
                .expect("query service answers")
                .text()
                .await
                .expect("metrics are text");
            let absent = missing(&scrape);
            if absent.is_empty() {
                return scrape;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "missing from /metrics after {PATIENCE:?}: {absent:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
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

    /// The target stops refusing anything: the fix a redrive follows.
    pub(crate) async fn clear_target_faults(&self) {
        let response = reqwest::Client::new()
            .put(format!("{}/admin/faults", self.target_url))
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("sandbox target answers");
        assert!(response.status().is_success(), "{response:?}");
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

    /// Reads `count` records from the start of `topic`.
    pub(crate) async fn read_topic(&self, topic: &str, count: usize) -> Vec<OwnedMessage> {
        orch_testkit::read_topic(&bootstrap(), topic, PATIENCE, |read| read.len() >= count).await
    }
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
