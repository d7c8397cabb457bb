//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use orch_kafka::KafkaConfig;
use orch_telemetry::TelemetryConfig;
use secrecy::SecretString;

use crate::breaker::BreakerSettings;
use crate::classify::Limits;

/// Everything the dispatcher reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-dispatcher",
    version = orch_telemetry::long_version(),
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
    #[arg(long, env = "DISPATCHER_TARGET_TOKEN", hide_env_values = true, value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from))]
    pub target_token: Option<SecretString>,

    /// Time allowed for one GraphQL request before it counts as a timeout.
    #[arg(long, env = "DISPATCHER_REQUEST_TIMEOUT_MS", default_value_t = 5_000)]
    pub request_timeout_ms: u64,

    /// Longest response body read from the target; a longer one is cut off
    /// and the attempt retried.
    #[arg(
        long,
        env = "DISPATCHER_MAX_RESPONSE_BYTES",
        default_value_t = 1_048_576
    )]
    pub max_response_bytes: usize,

    /// Longest wait a target's `Retry-After` (or GraphQL `retryAfter`) can
    /// impose; larger values are clamped to it.
    #[arg(long, env = "DISPATCHER_MAX_RETRY_AFTER_MS", default_value_t = 300_000)]
    pub max_retry_after_ms: u64,

    /// Failures in a row across events (5xx, timeouts, broken connections)
    /// that open the circuit breaker.
    #[arg(long, env = "DISPATCHER_BREAKER_FAILURE_RUN", default_value_t = 20)]
    pub breaker_failure_run: u32,

    /// First wait before the open breaker's probe; doubled after each failed probe.
    #[arg(
        long,
        env = "DISPATCHER_BREAKER_PROBE_BASE_MS",
        default_value_t = 1_000
    )]
    pub breaker_probe_base_ms: u64,

    /// Longest wait between two probes of an open breaker.
    #[arg(
        long,
        env = "DISPATCHER_BREAKER_PROBE_MAX_MS",
        default_value_t = 30_000
    )]
    pub breaker_probe_max_ms: u64,

    /// Events whose id starts with this panic their delivery task. A test
    /// hook for the supervision of tasks: never set it in production.
    #[arg(long, env = "DISPATCHER_TEST_PANIC_ID_PREFIX", hide = true)]
    pub test_panic_id_prefix: Option<String>,

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

    /// Limits on HTTP clients: timeouts and the connection cap.
    #[command(flatten)]
    pub http: orch_http::ServerLimits,

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

    /// Bounds on what the target may ask of us.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_retry_after: Duration::from_millis(self.max_retry_after_ms),
        }
    }

    /// The circuit breaker's settings. A probe not answered within two
    /// request timeouts (and a second for its pacing slot) is taken as lost.
    pub(crate) fn breaker(&self) -> BreakerSettings {
        BreakerSettings {
            failure_run: self.breaker_failure_run,
            probe_base: Duration::from_millis(self.breaker_probe_base_ms),
            probe_max: Duration::from_millis(self.breaker_probe_max_ms),
            probe_lease: self
                .request_timeout()
                .saturating_mul(2)
                .saturating_add(Duration::from_secs(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn debug_never_prints_a_secret() {
        let config = DispatcherConfig::try_parse_from([
            "orch-dispatcher",
            "--target-token",
            "SECRET",
            "--kafka-sasl-password",
            "SECRET",
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
    }
}
