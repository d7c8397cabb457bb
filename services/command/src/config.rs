//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;
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

    /// How long to wait for Kafka to acknowledge a record before answering 503.
    /// Kept well under the source's 500 ms budget.
    #[arg(long, env = "COMMAND_PUBLISH_TIMEOUT_MS", default_value_t = 400)]
    pub publish_timeout_ms: u64,

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
    /// The publish timeout as a `Duration`.
    pub fn publish_timeout(&self) -> Duration {
        Duration::from_millis(self.publish_timeout_ms)
    }
}
