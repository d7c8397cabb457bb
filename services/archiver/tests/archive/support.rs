use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::ObjectStore;
use orch_contracts::{DeadLetterRecord, ErrorKind, RawEventRecord};
use orch_kafka::KafkaConfig;
use orch_objects::{ArchiveReader, ManifestEntry, ObjectStoreConfig, Objects};
use rdkafka::producer::{FutureProducer, FutureRecord};
use time::OffsetDateTime;

/// A dead letter for a poison event `id`, as the dispatcher writes it.
pub(crate) fn dead_letter(id: &str) -> DeadLetterRecord {
    let event = RawEventRecord::new(
        orch_contracts::EventId::parse(id).unwrap(),
        "poison".into(),
        "a body the target refuses".into(),
        OffsetDateTime::now_utc(),
        "0af7651916cd43dd8448eb211c80319c".into(),
        Default::default(),
    );
    DeadLetterRecord::new(
        event,
        "acme".into(),
        ErrorKind::ClientError,
        "HTTP 400: poison".into(),
        Vec::new(),
    )
}

/// Writes the dead letters of `ids` to the DLQ topic.
pub(crate) async fn produce_dead_letters(kafka: &KafkaConfig, ids: &[String]) {
    let producer: FutureProducer = kafka
        .client_config("archiver-test")
        .set("enable.idempotence", "true")
        .create()
        .expect("producer");
    let topic = kafka.topics().dlq;
    let sends = ids.iter().map(|id| {
        let payload = serde_json::to_vec(&dead_letter(id)).unwrap();
        let producer = &producer;
        let topic = &topic;
        async move {
            producer
                .send(
                    FutureRecord::to(topic).key(id).payload(&payload),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(error, _)| error)
                .expect("dead letter written");
        }
    });
    futures::future::join_all(sends).await;
}

/// The archiver as a separate process, so a test can SIGKILL it.
#[derive(Debug)]
pub(crate) struct Archiver {
    child: Child,
    pub(crate) url: String,
}

impl Archiver {
    /// Starts the built binary and waits until it answers /health.
    pub(crate) async fn start(
        kafka: &KafkaConfig,
        store: &ObjectStoreConfig,
        env: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        let port = orch_testkit::free_port();
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let endpoint = store
            .endpoint
            .as_ref()
            .expect("a test store has an endpoint");
        let mut command = Command::new(env!("CARGO_BIN_EXE_orch-archiver"));
        command
            .env("ARCHIVER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "ARCHIVER_GROUP_ID",
                format!("{}archiver", kafka.kafka_topic_prefix),
            )
            .env("KAFKA_BOOTSTRAP_SERVERS", &kafka.kafka_bootstrap_servers)
            .env("KAFKA_TOPIC_PREFIX", &kafka.kafka_topic_prefix)
            .env(
                "KAFKA_TOPIC_PARTITIONS",
                kafka.kafka_topic_partitions.to_string(),
            )
            .env(
                "OBJECT_STORE_BUCKET",
                store.bucket.as_deref().expect("a bucket"),
            )
            .env("OBJECT_STORE_PREFIX", &store.prefix)
            .env("OBJECT_STORE_TIMEOUT_SECS", "5")
            .env("LOG_FORMAT", "text")
            .env("RUST_LOG", "info,rdkafka=warn")
            .envs(endpoint.aws_env())
            .envs(env.iter().copied())
            .stdout(Stdio::from(log_file.try_clone().expect("log file")))
            .stderr(Stdio::from(log_file));
        let child = command.spawn().expect("start orch-archiver");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
        while reqwest::get(format!("{url}/health")).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "orch-archiver did not start; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, url }
    }

    /// A value of the archiver's metrics (summed over label sets).
    pub(crate) async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.url))
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// SIGKILL, and waits until the process is gone.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("kill orch-archiver");
        self.child.wait().expect("reap orch-archiver");
    }

    /// SIGTERM, and waits (bounded) for an orderly exit.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(self.child.id() as i32).expect("pid"),
            rustix::process::Signal::TERM,
        )
        .expect("SIGTERM orch-archiver");
        self.child.wait().expect("reap orch-archiver")
    }
}

impl Drop for Archiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it is true, for up to `patience`.
pub(crate) async fn await_until<F, Fut>(what: &str, patience: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + patience;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the archive holds, checked for consistency: every data object has
/// one manifest entry and the reverse, each entry's records are in its
/// object, and per partition the entries' offset ranges never overlap.
#[derive(Debug)]
pub(crate) struct ArchiveContents {
    pub(crate) entries: Vec<ManifestEntry>,
    /// Event id → how many times it is archived.
    pub(crate) ids: BTreeMap<String, usize>,
}

/// Reads the whole archive and checks its consistency.
pub(crate) async fn read_archive(store: &ObjectStoreConfig) -> ArchiveContents {
    let objects = Objects::connect(store).expect("store client");
    let reader = ArchiveReader::new(objects.clone());
    let entries = reader.manifest().await.expect("manifest read");
    let root = objects.key(orch_objects::dlq_root());
    let mut data_objects: Vec<String> = objects
        .s3()
        .list(Some(&root))
        .map_ok(|meta| meta.location.to_string())
        .try_collect::<Vec<_>>()
        .await
        .expect("list archive")
        .into_iter()
        .filter(|key| !key.contains("/_manifest/"))
        .collect();
    data_objects.sort();
    let mut listed: Vec<String> = entries
        .iter()
        .map(|e| objects.key(&e.object).to_string())
        .collect();
    listed.sort();
    assert_eq!(
        data_objects, listed,
        "the manifest must list every data object, and only those"
    );
    let mut ids = BTreeMap::new();
    let mut previous: Option<&ManifestEntry> = None;
    for entry in &entries {
        if let Some(before) = previous.filter(|b| b.partition == entry.partition) {
            assert!(
                before.last_offset < entry.first_offset,
                "overlapping objects: {before:?} and {entry:?}"
            );
        }
        previous = Some(entry);
        for archived in reader.letters(entry).await.expect("object read") {
            assert!((entry.first_offset..=entry.last_offset).contains(&archived.offset));
            let letter = archived.letter.expect("a dead letter");
            *ids.entry(letter.id.into_string()).or_insert(0) += 1;
        }
    }
    ArchiveContents { entries, ids }
}
