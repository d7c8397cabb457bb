//! Test support for the integration tests, against the real broker,
//! database and object store that `dev/platform up` starts. Each test makes its own namespace
//! (topic prefix, groups, database) so tests never collide.

mod broker;
mod kafka;
pub mod objects;
mod postgres;
pub mod siege;

pub use broker::Broker;
pub use kafka::{ReadTopicError, read_topic, topic_size, try_read_topic};
pub use postgres::Postgres;

use std::time::Duration;

use sqlx::{Connection, PgConnection};

/// How long a test waits for the system before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The shared test broker (`KAFKA_BOOTSTRAP_SERVERS`, default 127.0.0.1:9092).
pub fn bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// The database the tests create their own databases from (`DATABASE_URL`).
pub fn admin_database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        "postgres://orchestrator:orchestrator@127.0.0.1:5432/orchestrator".into()
    })
}

/// A fresh namespace: `t<12 hex>.`, used as topic prefix and name stem.
/// `dev/test` drops databases and topics of this shape left by earlier runs.
pub fn unique_prefix() -> String {
    format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A fresh, empty database named after `prefix`; returns its URL.
pub async fn create_database(prefix: &str) -> String {
    let name = format!("orch_{}", prefix.trim_end_matches('.'));
    let admin_url = admin_database_url();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("admin connection to Postgres (is `dev/platform up` running?)");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A temporary directory named for `name`, kept after the test, for a log
/// worth reading when it fails.
pub fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orch-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The repository root (for `dev/` scripts).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Asserts that the checked-in file at `path` (relative to the repository
/// root) holds exactly `generated`; with `UPDATE_CHECKED_IN=1` it rewrites the
/// file instead, for when the change is meant.
pub fn assert_checked_in(path: &str, generated: &str) {
    let file = repo_root().join(path);
    if std::env::var_os("UPDATE_CHECKED_IN").is_some() {
        std::fs::write(&file, generated).expect("write the checked-in file");
        return;
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{path} is out of date with the code; if the change is meant, refresh it with \
         `UPDATE_CHECKED_IN=1 cargo test` and commit it"
    );
}

/// Installs tracing for the test process as each service's `main` does, so
/// trace context propagates through services started in-process; logs off,
/// since they would bypass the harness's output capture. Later calls, and a
/// process that installed its own, keep what is there.
pub fn install_tracing() {
    static GUARD: std::sync::OnceLock<Option<orch_telemetry::TelemetryGuard>> =
        std::sync::OnceLock::new();
    GUARD.get_or_init(|| {
        let config = orch_telemetry::TelemetryConfig {
            log_filter: "off".into(),
            ..orch_telemetry::TelemetryConfig::local()
        };
        orch_telemetry::init(&config, "orch-test").ok()
    });
}

/// Waits until `condition` holds, checking every 50 ms; panics with `what`
/// after `patience`. Returns how long it took.
pub async fn await_condition<F, Fut>(what: &str, patience: Duration, mut condition: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = tokio::time::Instant::now();
    while !condition().await {
        assert!(
            started.elapsed() < patience,
            "{what}: not within {patience:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}
