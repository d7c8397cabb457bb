//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;

use clap::builder::TypedValueParser as _;
use orch_http::ApiKeys;
use orch_kafka::KafkaConfig;
use orch_telemetry::TelemetryConfig;
use secrecy::SecretString;

use crate::trace_link::TraceLink;

/// Everything the query service reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-query",
    version = orch_telemetry::long_version(),
    about = "Projects event statuses into Postgres and serves look-ups."
)]
pub struct QueryConfig {
    /// Address to listen on for the HTTP API.
    #[arg(long, env = "QUERY_LISTEN_ADDR", default_value = "127.0.0.1:8082")]
    pub listen_addr: SocketAddr,

    /// Reader (support role) keys: comma-separated `sha256:<hex>` hashes.
    /// Keep them distinct from the source keys of the command service.
    #[arg(long, env = "QUERY_READER_KEY_HASHES", value_parser = ApiKeys::parse)]
    pub reader_key_hashes: ApiKeys,

    /// Postgres connection URL. Never logged.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://orchestrator:orchestrator@127.0.0.1:5432/orchestrator",
        hide_default_value = true,
        hide_env_values = true,
        value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from)
    )]
    pub database_url: SecretString,

    /// Largest number of pooled database connections.
    #[arg(long, env = "QUERY_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Consumer group of the projector.
    #[arg(long, env = "QUERY_GROUP_ID", default_value = "orch-projector")]
    pub group_id: String,

    /// Most records written to Postgres in one transaction. Large batches
    /// matter only when catching up (a small wait bounds them otherwise), and
    /// there they cut the per-record cost by a third against 1,000 (dev/bench query).
    #[arg(long, env = "QUERY_BATCH_MAX", default_value_t = 5_000)]
    pub batch_max: usize,

    /// Longest wait for more records once a batch's first arrived. Records
    /// already queued always join the batch (up to `QUERY_BATCH_MAX`), so
    /// catching up batches fully without it and a short wait costs little
    /// throughput: 2 against 20 ms read 0.18/0.21 against 0.22/0.17 of the
    /// baseline in `dev/bench query`, and saved 5 ms of end-to-end p50.
    #[arg(long, env = "QUERY_BATCH_WAIT_MS", default_value_t = 2)]
    pub batch_wait_ms: u64,

    /// Most record bytes each writer holds in memory, queued and in its
    /// batch; a batch is written once it holds half. Bounds the projector's
    /// memory by bytes, whatever the records' sizes (between 64 KiB and 4 GiB).
    #[arg(long, env = "QUERY_WRITER_BUFFER_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub writer_buffer_bytes: usize,

    /// Batches written at once, each on its own connection, for the
    /// partitions assigned to it (partition modulo this number).
    #[arg(long, env = "QUERY_WRITERS", default_value_t = 2)]
    pub writers: usize,

    #[command(flatten)]
    pub kafka: KafkaConfig,

    /// Where export files go; without a bucket, `POST /exports` answers 503.
    #[command(flatten)]
    pub objects: orch_objects::ObjectStoreConfig,

    /// How export jobs run.
    #[command(flatten)]
    pub exports: crate::exports::ExportSettings,

    /// Link to an event's trace in the trace backend, e.g.
    /// `http://localhost:16686/trace/{trace_id}`; unset, event views carry none.
    #[arg(long, env = "QUERY_TRACE_URL_TEMPLATE", value_parser = TraceLink::parse)]
    pub trace_url_template: Option<TraceLink>,

    /// The support and ops console at `/console`.
    #[command(flatten)]
    pub console: crate::console::ConsoleConfig,

    /// When an event is overdue, and the sweeper that publishes it again once.
    #[command(flatten)]
    pub overdue: crate::overdue::OverdueConfig,

    /// Limits on HTTP clients: timeouts and the connection cap.
    #[command(flatten)]
    pub http: orch_http::ServerLimits,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn debug_never_prints_a_secret() {
        let config = QueryConfig::try_parse_from([
            "orch-query",
            "--reader-key-hashes",
            "sha256:abababababababababababababababababababababababababababababababab",
            "--database-url",
            "postgres://orchestrator:SECRET@db/orchestrator",
            "--kafka-sasl-password",
            "SECRET",
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
    }
}
