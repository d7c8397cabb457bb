//! The DLQ archiver: a consumer group on `events.dlq` that writes every dead
//! letter to object storage exactly once, as date-partitioned gzip'd NDJSON
//! objects with a manifest, and commits offsets only after both are written.
//!
//! It is its own service, not a mode of the dispatcher, because it fails and
//! scales on its own terms: an S3 outage must never slow delivery, and the
//! archive's IAM role (write to one bucket, one KMS key) belongs to it alone.

mod batch;
mod config;
mod context;
mod error;
mod metrics_catalogue;
mod ownership;
mod routes;
mod run_loop;
mod startup;
mod upload;

pub use config::ArchiverConfig;
pub use error::StartupError;
pub use startup::Application;
