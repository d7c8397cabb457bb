//! Starting dispatchers, the sandbox target, and feeding and reading topics.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use orch_contracts::{RawEventRecord, StatusRecord, Topics};
use orch_sandbox_target::{Application, Faults, SandboxConfig, Stats};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

/// Tests that count requests per window at the target take this exclusively;
/// the others share it. On two cores, the other tests' replicas and brokers
/// bunch the arrival times the target counts (a CI run saw 205 in one window
/// at a steady 193/s), so a measuring test runs alone.
static MEASURING: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Held by a test that measures the rate at the target: no other test runs.
pub(crate) async fn measuring_alone() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    MEASURING.write().await
}

/// Held by every other test: they run together, never beside a measurement.
pub(crate) async fn not_measuring() -> tokio::sync::RwLockReadGuard<'static, ()> {
    MEASURING.read().await
}

/// The sandbox target, in-process; stopped when dropped.
pub(crate) struct Target {
    pub(crate) url: String,
    shutdown: CancellationToken,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) async fn spawn_target(rate: u32, faults: Faults) -> Target {
    spawn_target_with_burst(rate, 0, faults).await
}

/// A target whose limiter allows `burst` requests ahead of its rate (0: a
/// second's worth). It runs on a runtime and thread of its own: the target
/// is the instrument that counts requests per window, and a test task that
/// blocks a shared worker for a few milliseconds would bunch its arrival
/// times and make it see windows the dispatcher never sent.
pub(crate) async fn spawn_target_with_burst(rate: u32, burst: u32, faults: Faults) -> Target {
    let shutdown = CancellationToken::new();
    let (started, address) = tokio::sync::oneshot::channel();
    let stop = shutdown.clone();
    std::thread::Builder::new()
        .name("sandbox-target".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("the target's runtime");
            runtime.block_on(async move {
                let app = Application::build(SandboxConfig {
                    faults,
                    rate_limit_burst: burst,
                    ..SandboxConfig::local(rate)
                })
                .await
                .expect("sandbox target starts");
                let _ = started.send(app.local_addr());
                let _ = app.run(stop).await;
            });
        })
        .expect("the target's thread");
    let url = format!("http://{}", address.await.expect("sandbox target starts"));
    Target { url, shutdown }
}

impl Target {
    pub(crate) async fn stats(&self) -> Stats {
        reqwest::get(format!("{}/stats", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// POSTs `body` to an admin endpoint, which must take it.
    pub(crate) async fn admin(&self, path: &str, body: serde_json::Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/admin/{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.text().await.unwrap_or_default()
        );
    }
}

/// A dispatcher replica as a process.
pub(crate) struct Replica {
    child: Child,
    port: u16,
}

impl Replica {
    pub(crate) async fn start(
        prefix: &str,
        target: &Target,
        rate: u32,
        partitions: u32,
        log: &Path,
    ) -> Self {
        Self::start_with(prefix, target, rate, partitions, log, &[]).await
    }

    /// Starts a replica with `settings` (environment variables) on top of the usual ones.
    pub(crate) async fn start_with(
        prefix: &str,
        target: &Target,
        rate: u32,
        partitions: u32,
        log: &Path,
        settings: &[(&str, &str)],
    ) -> Self {
        let port = orch_testkit::free_port();
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_orch-dispatcher"))
            .env("DISPATCHER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("DISPATCHER_GROUP_ID", format!("{prefix}dispatcher"))
            .env("DISPATCHER_TARGET_URL", format!("{}/graphql", target.url))
            .env("DISPATCHER_RATE_LIMIT_PER_SEC", rate.to_string())
            .env("DISPATCHER_BACKOFF_BASE_MS", "50")
            .env("DISPATCHER_BACKOFF_MAX_MS", "2000")
            .env("DISPATCHER_REQUEST_TIMEOUT_MS", "5000")
            .env("KAFKA_BOOTSTRAP_SERVERS", orch_testkit::bootstrap())
            .env("KAFKA_TOPIC_PREFIX", prefix)
            .env("KAFKA_TOPIC_PARTITIONS", partitions.to_string())
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "info,rdkafka=warn")
            .envs(settings.iter().copied())
            .stdout(Stdio::from(log_file.try_clone().unwrap()))
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("start orch-dispatcher");
        let replica = Self { child, port };
        let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
        while reqwest::get(format!("http://127.0.0.1:{port}/ready"))
            .await
            .map(|r| r.status().as_u16())
            .ok()
            != Some(200)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "dispatcher did not start; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        replica
    }

    /// SIGKILL: no graceful anything. Returns once the process is gone.
    pub(crate) fn kill(&mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(
            !status.success(),
            "the replica was really killed: {status:?}"
        );
    }

    /// The replica's `GET /status`.
    pub(crate) async fn status(&self) -> serde_json::Value {
        reqwest::get(format!("http://127.0.0.1:{}/status", self.port))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub(crate) use orch_testkit::await_condition;

/// Every dispatcher log line that reports a panic, from any of `logs`.
pub(crate) fn panics_in(logs: &[&Path]) -> Vec<String> {
    logs.iter()
        .flat_map(|log| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .lines()
                .filter(|line| line.contains("panicked"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the dispatcher logging to `log` has had `at_least` assignments.
pub(crate) async fn await_assignments(log: &Path, at_least: usize) {
    let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.matches("Partitions assigned").count() >= at_least {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the group never formed; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Produces raw records on one producer.
#[derive(Clone)]
pub(crate) struct Feeder {
    producer: FutureProducer,
    topic: String,
}

impl Feeder {
    pub(crate) fn new(topics: &Topics) -> Self {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", orch_testkit::bootstrap())
            .set("linger.ms", "5")
            .create()
            .unwrap();
        Self {
            producer,
            topic: topics.raw.clone(),
        }
    }

    /// Produces raw records for `ids`, keyed by id.
    pub(crate) async fn send(&self, ids: &[String]) {
        let sends = ids.iter().map(|id| {
            let record = RawEventRecord::new(
                orch_contracts::EventId::parse(id).unwrap(),
                format!("name of {id}"),
                format!("body of {id}"),
                time::OffsetDateTime::from_unix_timestamp(1_795_255_200).unwrap(),
                "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                serde_json::Map::new(),
            );
            let payload = orch_contracts::to_json(&record);
            async move {
                self.producer
                    .send(
                        FutureRecord::to(&self.topic).key(id).payload(&payload),
                        Duration::from_secs(30),
                    )
                    .await
                    .expect("raw record produced");
            }
        });
        futures::future::join_all(sends).await;
    }
}

/// Produces raw records for `ids`, keyed by id.
pub(crate) async fn produce(topics: &Topics, ids: &[String]) {
    Feeder::new(topics).send(ids).await;
}

/// Reads `events.status` until every id in `ids` has an outcome; returns each
/// id's outcome record (delivered or dead-lettered; the first one seen).
pub(crate) async fn await_outcomes(
    topics: &Topics,
    ids: &[String],
    patience: Duration,
) -> HashMap<String, StatusRecord> {
    let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut outcomes: HashMap<String, StatusRecord> = HashMap::new();
    orch_testkit::read_topic(
        &orch_testkit::bootstrap(),
        &topics.status,
        patience,
        |read| {
            if let Some(last) = read.last() {
                let record: StatusRecord =
                    serde_json::from_slice(last.payload().unwrap_or_default()).unwrap();
                if wanted.contains(record.id.as_str())
                    && matches!(
                        record.status,
                        orch_contracts::Status::Delivered | orch_contracts::Status::DeadLettered
                    )
                {
                    outcomes
                        .entry(record.id.as_str().to_owned())
                        .or_insert(record);
                }
            }
            outcomes.len() >= ids.len()
        },
    )
    .await;
    outcomes
}
