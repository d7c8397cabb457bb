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
    /// Each replica takes the share of its assigned partitions.
    #[arg(long, env = "DISPATCHER_RATE_LIMIT_PER_SEC", default_value_t = 100)]
    pub rate_limit_per_sec: u32,

    /// Window per partition: offsets taken beyond the commit point (finished
    /// or not) before fetching it pauses. A crash redelivers at most this many
    /// per partition it held.
    #[arg(
        long,
        env = "DISPATCHER_MAX_IN_FLIGHT_PER_PARTITION",
        default_value_t = 256
    )]
    pub max_in_flight_per_partition: usize,

    /// Stop retrying an event this long after its first attempt.
    #[arg(
        long,
        env = "DISPATCHER_MAX_RETRY_ELAPSED_MS",
        default_value_t = 3_600_000
    )]
    pub max_retry_elapsed_ms: u64,

    /// At shutdown, how long in-flight events may take to finish before they
    /// are abandoned (and redelivered after the restart).
    #[arg(long, env = "DISPATCHER_SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,

    /// The consumer's `max.poll.interval.ms`.
    #[arg(
        long,
        env = "DISPATCHER_MAX_POLL_INTERVAL_MS",
        default_value_t = 300_000
    )]
    pub max_poll_interval_ms: u64,

    /// Failed delivery attempts before an event is dead-lettered as exhausted
    /// (rate-limit answers do not count).
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
    /// Settings that could make the consumer miss `max.poll.interval.ms`.
    pub fn poll_interval_risks(&self) -> Vec<String> {
        let mut risks = Vec::new();
        if self.shutdown_grace_ms >= self.max_poll_interval_ms {
            risks.push(format!(
                "DISPATCHER_SHUTDOWN_GRACE_MS ({}) is not below DISPATCHER_MAX_POLL_INTERVAL_MS ({}): a slow shutdown can be taken for a dead consumer",
                self.shutdown_grace_ms, self.max_poll_interval_ms
            ));
        }
        if self.request_timeout_ms >= self.max_poll_interval_ms {
            risks.push(format!(
                "DISPATCHER_REQUEST_TIMEOUT_MS ({}) is not below DISPATCHER_MAX_POLL_INTERVAL_MS ({})",
                self.request_timeout_ms, self.max_poll_interval_ms
            ));
        }
        risks
    }

    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}
