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
    version = orch_telemetry::long_version(),
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

    /// Largest request body accepted, in bytes; larger bodies get 413. With
    /// the record's envelope it must fit `COMMAND_KAFKA_MESSAGE_MAX_BYTES` and
    /// the raw topic's `max.message.bytes`; start-up refuses it otherwise.
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

    /// Producer linger: how long a record may wait for others to share its
    /// batch. At a steady 5,000/s, 2 ms answered p50 3.2-3.4 / p99 5.9-6.9 ms
    /// for the same CPU per event as 5 ms (p50 4.6-5.6 / p99 8.5-9.0 ms);
    /// 1 ms cost ~13 % more CPU.
    #[arg(long, env = "COMMAND_KAFKA_LINGER_MS", default_value_t = 2)]
    pub kafka_linger_ms: u64,

    /// Producer batch size limit per partition, in bytes.
    #[arg(long, env = "COMMAND_KAFKA_BATCH_BYTES", default_value_t = 1_000_000)]
    pub kafka_batch_bytes: u64,

    /// The producer's `message.max.bytes`: the largest record it sends.
    #[arg(
        long,
        env = "COMMAND_KAFKA_MESSAGE_MAX_BYTES",
        default_value_t = 1_000_000
    )]
    pub kafka_message_max_bytes: usize,

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

    /// Limits on HTTP clients: timeouts and the connection cap.
    #[command(flatten)]
    pub http: orch_http::ServerLimits,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}

/// The most a raw record (and its spool entry) adds to the body it carries:
/// the normalised fields never grow, and the added ones (ids, times, trace
/// context, correlation id, headers) are bounded well inside this.
pub(crate) const RECORD_ENVELOPE_BYTES: usize = 8 * 1024;

impl CommandConfig {
    /// The largest raw record or spool entry an accepted body can make.
    pub fn max_record_bytes(&self) -> usize {
        self.max_body_bytes.saturating_add(RECORD_ENVELOPE_BYTES)
    }

    /// Refuses a body limit that a record could not carry through Kafka:
    /// such an event would be answered 202 and could never be forwarded.
    /// `topic_limit` is the raw topic's `max.message.bytes`, when known.
    pub fn check_record_limits(&self, topic_limit: Option<usize>) -> Result<(), String> {
        let record = self.max_record_bytes();
        if record > self.kafka_message_max_bytes {
            return Err(format!(
                "COMMAND_MAX_BODY_BYTES ({}) plus the record's envelope ({RECORD_ENVELOPE_BYTES}) is {record} bytes, over COMMAND_KAFKA_MESSAGE_MAX_BYTES ({}): lower the body limit or raise the producer's",
                self.max_body_bytes, self.kafka_message_max_bytes
            ));
        }
        if let Some(limit) = topic_limit
            && record > limit
        {
            return Err(format!(
                "COMMAND_MAX_BODY_BYTES ({}) plus the record's envelope ({RECORD_ENVELOPE_BYTES}) is {record} bytes, over the raw topic's max.message.bytes ({limit}): lower the body limit or raise the topic's",
                self.max_body_bytes
            ));
        }
        Ok(())
    }

    /// The publish budget as a `Duration`.
    pub fn publish_budget(&self) -> Duration {
        Duration::from_millis(self.publish_budget_ms)
    }

    /// What the publisher needs of this configuration.
    pub(crate) fn publisher_settings(&self) -> crate::publisher::PublisherSettings {
        crate::publisher::PublisherSettings {
            linger_ms: self.kafka_linger_ms,
            batch_bytes: self.kafka_batch_bytes,
            message_max_bytes: self.kafka_message_max_bytes,
            message_timeout_ms: self.kafka_message_timeout_ms,
            budget: self.publish_budget(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn debug_never_prints_a_secret() {
        let config = CommandConfig::try_parse_from([
            "orch-command",
            "--source-key-hashes",
            "sha256:abababababababababababababababababababababababababababababababab",
            "--kafka-sasl-password",
            "SECRET",
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
    }

    fn with_body_limit(max_body_bytes: &str) -> CommandConfig {
        let hashes = format!("sha256:{}", "ab".repeat(32));
        CommandConfig::try_parse_from([
            "orch-command",
            "--source-key-hashes",
            &hashes,
            "--max-body-bytes",
            max_body_bytes,
        ])
        .unwrap()
    }

    #[test]
    fn a_body_limit_kafka_cannot_carry_is_refused_with_the_settings_to_change() {
        assert_eq!(
            with_body_limit("65536").check_record_limits(Some(1_048_588)),
            Ok(())
        );
        let error = with_body_limit("2000000")
            .check_record_limits(None)
            .unwrap_err();
        assert!(error.contains("COMMAND_KAFKA_MESSAGE_MAX_BYTES"), "{error}");
        // Fits the producer, not the topic.
        let error = with_body_limit("900000")
            .check_record_limits(Some(500_000))
            .unwrap_err();
        assert!(error.contains("max.message.bytes (500000)"), "{error}");
        // The spool's entry limit follows the body limit.
        let config = with_body_limit("100000");
        assert_eq!(config.max_record_bytes(), 100_000 + RECORD_ENVELOPE_BYTES);
    }
}
