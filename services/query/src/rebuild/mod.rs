//! Rebuilding the read model from the log: project `events.raw` and
//! `events.status` from their oldest records up to a fixed end into a side
//! schema, compare it with the live model, and promote it if asked. The same
//! batch code as the live projector writes the rows, so a match means the
//! live model holds exactly what the log says.

mod checksum;
mod log;
mod schema;

pub use checksum::{Checksum, Difference, checksum, differences};
pub use log::{LogEnd, project_log};
pub use schema::{SchemaName, connect_in, create, has_model, promote};

/// Why a rebuild step failed.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("schema migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("Kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("schema {0} already exists; choose another --schema or drop it first")]
    SchemaExists(String),
    #[error("{0:?} is not a schema name orchctl creates: use lower-case letters, digits and _")]
    BadSchemaName(String),
}
