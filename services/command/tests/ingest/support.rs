//! Starting the command service for a test, in its own namespace.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use orch_command::CommandConfig;
use orch_kafka::KafkaConfig;
use orch_telemetry::TelemetryConfig;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub(crate) const SOURCE_KEY: &str = "test-source-key";
pub(crate) const READER_KEY: &str = "test-reader-key";

/// An in-process command service; stopped when dropped.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) url: String,
    pub(crate) kafka: KafkaConfig,
    pub(crate) http: reqwest::Client,
    shutdown: CancellationToken,
    _spool: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) fn config(
    bootstrap: &str,
    prefix: &str,
    spool_dir: &Path,
    listen_addr: SocketAddr,
) -> CommandConfig {
    CommandConfig {
        listen_addr,
        source_key_hashes: orch_http::ApiKeys::parse(&orch_http::hash_key(SOURCE_KEY))
            .expect("key hash"),
        max_body_bytes: 64 * 1024,
        publish_budget_ms: 150,
        request_deadline_ms: 450,
        kafka_linger_ms: 5,
        kafka_batch_bytes: 1_000_000,
        kafka_message_max_bytes: 1_000_000,
        kafka_message_timeout_ms: 5_000,
        spool_dir: spool_dir.to_owned(),
        spool_max_bytes: 1 << 30,
        spool_segment_bytes: 1 << 20,
        status_base_url: "http://query.test".into(),
        kafka: KafkaConfig {
            kafka_topic_partitions: 3,
            ..KafkaConfig::local(bootstrap, prefix)
        },
        http: orch_http::ServerLimits::default(),
        telemetry: TelemetryConfig {
            log_filter: "warn".into(),
            ..TelemetryConfig::local()
        },
    }
}

pub(crate) async fn spawn_app() -> App {
    orch_testkit::install_tracing();
    let spool = tempfile::tempdir().expect("spool dir");
    let config = config(
        &orch_testkit::bootstrap(),
        &orch_testkit::unique_prefix(),
        spool.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    let kafka = config.kafka.clone();
    let app = orch_command::Application::build(config)
        .await
        .expect("command service starts");
    let url = format!("http://{}", app.local_addr());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    App {
        url,
        kafka,
        http: reqwest::Client::new(),
        shutdown,
        _spool: spool,
    }
}

impl App {
    /// POSTs `body` as JSON with the source key.
    pub(crate) async fn post_event(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/events", self.url))
            .bearer_auth(SOURCE_KEY)
            .json(body)
            .send()
            .await
            .expect("command service answers")
    }

    /// Waits until `events.raw` holds `expected` records, then returns how many
    /// it holds. An event may be spooled first (a just-created topic can be slow
    /// to get a leader), so it can reach Kafka a little after its 202.
    pub(crate) async fn await_raw_topic_size(&self, expected: i64) -> i64 {
        let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
        loop {
            let size =
                orch_testkit::topic_size(&orch_testkit::bootstrap(), &self.kafka.topics().raw)
                    .await;
            if size >= expected || tokio::time::Instant::now() >= deadline {
                return size;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The command service as a separate process, so a test can SIGKILL it.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    pub(crate) url: String,
}

impl Process {
    /// Starts the built binary and waits until it answers /health.
    pub(crate) async fn start(
        bootstrap: &str,
        prefix: &str,
        spool_dir: &Path,
        port: u16,
        log: &Path,
    ) -> Self {
        let binary = Command::new(env!("CARGO_BIN_EXE_orch-command"));
        Self::start_as(binary, bootstrap, prefix, spool_dir, port, log).await
    }

    /// As `start`, with the process's open-file limit set to `open_files`.
    pub(crate) async fn start_with_open_files(
        open_files: u32,
        bootstrap: &str,
        prefix: &str,
        spool_dir: &Path,
        port: u16,
        log: &Path,
    ) -> Self {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_orch-command"));
        Self::start_as(shell, bootstrap, prefix, spool_dir, port, log).await
    }

    async fn start_as(
        mut command: Command,
        bootstrap: &str,
        prefix: &str,
        spool_dir: &Path,
        port: u16,
        log: &Path,
    ) -> Self {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let child = command
            .env("COMMAND_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("COMMAND_SOURCE_KEY_HASHES", orch_http::hash_key(SOURCE_KEY))
            .env("COMMAND_SPOOL_DIR", spool_dir)
            .env("COMMAND_KAFKA_MESSAGE_TIMEOUT_MS", "5000")
            .env("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
            .env("KAFKA_TOPIC_PREFIX", prefix)
            .env("KAFKA_TOPIC_PARTITIONS", "3")
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "info,rdkafka=warn")
            .stdout(Stdio::from(log_file.try_clone().expect("log file")))
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("start orch-command");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
        while http.get(format!("{url}/health")).send().await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "orch-command did not start; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, url }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown of any kind.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("kill orch-command");
        self.child.wait().expect("reap orch-command");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
