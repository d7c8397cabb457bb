//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;
use std::time::Duration;

use orch_kafka::KafkaConfig;
use orch_telemetry::TelemetryConfig;

/// Everything the dispatcher reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-dispatcher",
    about = "Delivers events to the target GraphQL API."
)]
pub struct DispatcherConfig {
    /// Address for the health and metrics endpoints.
    #[arg(long, env = "DISPATCHER_LISTEN_ADDR", default_value = "127.0.0.1:8081")]
    pub listen_addr: SocketAddr,

    /// Consumer group id; every replica of one deployment shares it.
    #[arg(long, env = "DISPATCHER_GROUP_ID", default_value = "orch-dispatcher")]
    pub group_id: String,

    /// The target's GraphQL endpoint.
    #[arg(
        long,
        env = "DISPATCHER_TARGET_URL",
        default_value = "http://127.0.0.1:8090/graphql"
    )]
    pub target_url: String,

    /// Bearer token sent to the target, if it needs one. Never logged.
    #[arg(long, env = "DISPATCHER_TARGET_TOKEN", hide_env_values = true)]
    pub target_token: Option<String>,

    /// Time allowed for one GraphQL request before it counts as a timeout.
    #[arg(long, env = "DISPATCHER_REQUEST_TIMEOUT_MS", default_value_t = 5_000)]
    pub request_timeout_ms: u64,

    /// Events per second the whole consumer group may send to the target.
    #[arg(long, env = "DISPATCHER_RATE_LIMIT_PER_SEC", default_value_t = 100)]
    pub rate_limit_per_sec: u32,

    /// Delivery attempts before an event is dead-lettered as exhausted.
    #[arg(long, env = "DISPATCHER_MAX_ATTEMPTS", default_value_t = 8)]
    pub max_attempts: u32,

    /// First retry delay cap; each later attempt doubles it (full jitter).
    #[arg(long, env = "DISPATCHER_BACKOFF_BASE_MS", default_value_t = 200)]
    pub backoff_base_ms: u64,

    /// Largest retry delay, whatever the attempt number.
    #[arg(long, env = "DISPATCHER_BACKOFF_MAX_MS", default_value_t = 30_000)]
    pub backoff_max_ms: u64,

    /// The brand every event is enriched with.
    #[arg(long, env = "DISPATCHER_BRAND", default_value = "testBrand")]
    pub brand: String,

    #[command(flatten)]
    pub kafka: KafkaConfig,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}

impl DispatcherConfig {
    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}
