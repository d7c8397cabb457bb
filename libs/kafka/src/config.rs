use orch_contracts::Topics;
use rdkafka::ClientConfig;

use crate::KafkaSecurity;

/// Connection and topic settings shared by every service.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaConfig {
    /// Kafka bootstrap servers, comma-separated host:port pairs.
    #[arg(
        long,
        env = "KAFKA_BOOTSTRAP_SERVERS",
        default_value = "127.0.0.1:9092"
    )]
    pub kafka_bootstrap_servers: String,

    /// Prefix for every topic name, e.g. `staging.`; empty gives `events.raw` etc.
    #[arg(long, env = "KAFKA_TOPIC_PREFIX", default_value = "")]
    pub kafka_topic_prefix: String,

    /// Partitions for a topic this service creates because it is missing.
    /// Partitions bound the dispatcher's parallelism across replicas.
    #[arg(long, env = "KAFKA_TOPIC_PARTITIONS", default_value_t = 6)]
    pub kafka_topic_partitions: i32,

    /// Replication factor for topics this service creates (3 on MSK).
    #[arg(long, env = "KAFKA_TOPIC_REPLICATION_FACTOR", default_value_t = 1)]
    pub kafka_topic_replication_factor: i32,

    /// Retention of topics this service creates, in ms (-1 keeps forever).
    /// Replay and rebuild reach back only this far, so the default is 30 days.
    #[arg(
        long,
        env = "KAFKA_TOPIC_RETENTION_MS",
        default_value_t = 2_592_000_000
    )]
    pub kafka_topic_retention_ms: i64,

    /// TLS and SASL settings.
    #[command(flatten)]
    pub security: KafkaSecurity,
}

impl KafkaConfig {
    /// Settings for a local broker at `bootstrap` with topics under `prefix`.
    pub fn local(bootstrap: &str, prefix: &str) -> Self {
        Self {
            kafka_bootstrap_servers: bootstrap.to_owned(),
            kafka_topic_prefix: prefix.to_owned(),
            kafka_topic_partitions: 6,
            kafka_topic_replication_factor: 1,
            kafka_topic_retention_ms: 2_592_000_000,
            security: KafkaSecurity::default(),
        }
    }

    /// The topic names under this deployment's prefix.
    pub fn topics(&self) -> Topics {
        Topics::with_prefix(&self.kafka_topic_prefix)
    }

    /// A client configuration with the connection settings every client shares;
    /// each client adds its own role-specific settings.
    pub fn client_config(&self, client_id: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.kafka_bootstrap_servers)
            .set("client.id", client_id);
        self.security.apply(&mut config);
        config
    }

    /// A producer whose records are durable once acknowledged and never
    /// duplicated or reordered by its own retries: idempotence (which implies
    /// `acks=all`), lz4 (JSON compresses well for little CPU) and a linger
    /// of `linger_ms` so concurrent sends share a batch. Callers add their
    /// own limits and create it with `auth_context()`.
    pub fn durable_producer_config(&self, client_id: &str, linger_ms: u64) -> ClientConfig {
        let mut config = self.client_config(client_id);
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "lz4")
            .set("linger.ms", linger_ms.to_string());
        config
    }

    /// The context every client of this deployment is created with, so it
    /// can answer token requests (MSK IAM).
    pub fn auth_context(&self) -> crate::AuthContext {
        crate::AuthContext::new(self.security.tokens())
    }

    /// A consumer in `group_id` that commits only offsets the caller stored,
    /// which callers do only once a record's effect is durable.
    pub fn consumer_config(&self, client_id: &str, group_id: &str) -> ClientConfig {
        let mut config = self.client_config(client_id);
        config
            .set("group.id", group_id)
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.auto.offset.store", "false")
            .set("session.timeout.ms", "10000")
            // Statistics feed the consumer-lag metric (see `record_consumer_lag`).
            .set(
                "statistics.interval.ms",
                crate::STATISTICS_INTERVAL_MS.to_string(),
            );
        config
    }
}
