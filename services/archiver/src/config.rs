//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;
use std::time::Duration;

use orch_kafka::KafkaConfig;
use orch_objects::ObjectStoreConfig;
use orch_telemetry::TelemetryConfig;

/// Everything the archiver reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-archiver",
    version = orch_telemetry::long_version(),
    about = "Archives dead letters to object storage."
)]
pub struct ArchiverConfig {
    /// Address for the health and metrics endpoints.
    #[arg(long, env = "ARCHIVER_LISTEN_ADDR", default_value = "127.0.0.1:8083")]
    pub listen_addr: SocketAddr,

    /// Consumer group id; every replica of one deployment shares it.
    #[arg(long, env = "ARCHIVER_GROUP_ID", default_value = "orch-dlq-archiver")]
    pub group_id: String,

    /// An object is closed and written once its records reach this many
    /// bytes before compression.
    #[arg(long, env = "ARCHIVER_ROLL_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub roll_bytes: u64,

    /// An object is closed and written once its first record has waited
    /// this long, however small it is.
    #[arg(long, env = "ARCHIVER_ROLL_SECS", default_value_t = 300)]
    pub roll_secs: u64,

    /// Most bytes held in memory across all partitions (open objects and
    /// those being written); above it the consumer pauses and the largest
    /// open object is written early.
    #[arg(long, env = "ARCHIVER_MAX_BUFFERED_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_buffered_bytes: u64,

    /// Longest pause between retries of a failed write to the store.
    #[arg(long, env = "ARCHIVER_RETRY_MAX_MS", default_value_t = 30_000)]
    pub retry_max_ms: u64,

    /// How long a rebalance waits for a revoked partition's write under way,
    /// so no replica writes a partition it no longer owns.
    #[arg(long, env = "ARCHIVER_REVOKE_WAIT_MS", default_value_t = 10_000)]
    pub revoke_wait_ms: u64,

    /// How long shutdown waits for open objects to be written.
    #[arg(long, env = "ARCHIVER_SHUTDOWN_GRACE_MS", default_value_t = 20_000)]
    pub shutdown_grace_ms: u64,

    #[command(flatten)]
    pub objects: ObjectStoreConfig,

    #[command(flatten)]
    pub kafka: KafkaConfig,

    #[command(flatten)]
    pub http: orch_http::ServerLimits,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}

impl ArchiverConfig {
    /// The settings a test uses: the local broker, a test's topic prefix
    /// and store, and a short time roll.
    pub fn local(bootstrap: &str, prefix: &str, objects: ObjectStoreConfig) -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            group_id: format!("{prefix}archiver"),
            roll_bytes: 64 * 1024 * 1024,
            roll_secs: 2,
            max_buffered_bytes: 256 * 1024 * 1024,
            retry_max_ms: 1_000,
            revoke_wait_ms: 10_000,
            shutdown_grace_ms: 20_000,
            objects,
            kafka: KafkaConfig::local(bootstrap, prefix),
            http: orch_http::ServerLimits::default(),
            telemetry: TelemetryConfig::local(),
        }
    }

    pub(crate) fn roll_after(&self) -> Duration {
        Duration::from_secs(self.roll_secs)
    }

    /// Refuses settings that cannot work, naming the variable.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.roll_bytes < 1_024 {
            return Err("ARCHIVER_ROLL_BYTES must be at least 1024".into());
        }
        if self.roll_secs == 0 {
            return Err("ARCHIVER_ROLL_SECS must be at least 1".into());
        }
        if self.max_buffered_bytes < self.roll_bytes {
            return Err("ARCHIVER_MAX_BUFFERED_BYTES must be at least ARCHIVER_ROLL_BYTES".into());
        }
        if self.retry_max_ms == 0 {
            return Err("ARCHIVER_RETRY_MAX_MS must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ObjectStoreConfig {
        ObjectStoreConfig::local(
            "b",
            "t",
            orch_objects::Endpoint::local("http://127.0.0.1:1"),
        )
    }

    #[test]
    fn defaults_are_documented_values() {
        let config = ArchiverConfig::local("127.0.0.1:9092", "t.", store());
        assert!(config.check().is_ok());
        let mut tiny = config.clone();
        tiny.max_buffered_bytes = tiny.roll_bytes - 1;
        assert!(
            tiny.check()
                .unwrap_err()
                .contains("ARCHIVER_MAX_BUFFERED_BYTES")
        );
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let mut config = ArchiverConfig::local("127.0.0.1:9092", "t.", store());
        config.kafka.security.kafka_sasl_password = Some("SECRET".to_string().into());
        assert!(!format!("{config:?}").contains("SECRET"));
    }
}
