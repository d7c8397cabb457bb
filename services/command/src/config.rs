//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use orch_http::ApiKeys;
use orch_kafka::KafkaConfig;
use orch_telemetry::TelemetryConfig;

/// Everything the command service reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-command",
    about = "Accepts events and makes them durable in Kafka."
)]
pub struct CommandConfig {
    /// Address to listen on for the HTTP API.
    #[arg(long, env = "COMMAND_LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen_addr: SocketAddr,

    /// Source keys allowed to POST events: comma-separated `sha256:<hex>` hashes
    /// (`orchctl hash-key <key>` prints one). Several at once allow rotation.
    #[arg(long, env = "COMMAND_SOURCE_KEY_HASHES", value_parser = ApiKeys::parse)]
    pub source_key_hashes: ApiKeys,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "COMMAND_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// How long to wait for Kafka's acknowledgement before making the event
    /// durable in the local spool instead. Leaves room under the source's
    /// 500 ms for the spool's fsync.
    #[arg(long, env = "COMMAND_PUBLISH_BUDGET_MS", default_value_t = 150)]
    pub publish_budget_ms: u64,

    /// Longest a request may take to make its event durable (Kafka or spool).
    /// Past it the answer is 503, so the source never waits beyond its 500 ms;
    /// an event whose spool write finishes after that is still forwarded
    /// (delivered though answered 503: never lost, never falsely promised).
    #[arg(long, env = "COMMAND_REQUEST_DEADLINE_MS", default_value_t = 450)]
    pub request_deadline_ms: u64,

    /// Producer linger: how long a record may wait for others to share its batch.
    #[arg(long, env = "COMMAND_KAFKA_LINGER_MS", default_value_t = 5)]
    pub kafka_linger_ms: u64,

    /// Producer batch size limit per partition, in bytes.
    #[arg(long, env = "COMMAND_KAFKA_BATCH_BYTES", default_value_t = 1_000_000)]
    pub kafka_batch_bytes: u64,

    /// How long the producer keeps trying one record before giving it up to the spool.
    #[arg(
        long,
        env = "COMMAND_KAFKA_MESSAGE_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub kafka_message_timeout_ms: u64,

    /// Directory of the durable spool; put it on a persistent disk.
    #[arg(long, env = "COMMAND_SPOOL_DIR", default_value = "spool")]
    pub spool_dir: PathBuf,

    /// Largest spool size on disk; when full, events get 503.
    #[arg(long, env = "COMMAND_SPOOL_MAX_BYTES", default_value_t = 1 << 30)]
    pub spool_max_bytes: u64,

    /// Size at which the spool starts a new segment file.
    #[arg(long, env = "COMMAND_SPOOL_SEGMENT_BYTES", default_value_t = 64 << 20)]
    pub spool_segment_bytes: u64,

    /// Base URL of the query service, used to build each event's `status_url`.
    #[arg(
        long,
        env = "COMMAND_STATUS_BASE_URL",
        default_value = "http://127.0.0.1:8082"
    )]
    pub status_base_url: String,

    #[command(flatten)]
    pub kafka: KafkaConfig,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}

impl CommandConfig {
    /// The publish budget as a `Duration`.
    pub fn publish_budget(&self) -> Duration {
        Duration::from_millis(self.publish_budget_ms)
    }
}
