//! The command service: authenticates, validates and normalises events, and
//! answers 202 only once the raw record is durable in Kafka.

mod config;
pub mod domain;
mod durable;
mod error;
mod forwarder;
pub mod intake;
mod internal_events;
mod metrics_catalogue;
mod publisher;
mod routes;
pub mod spool;
mod spooled;
mod startup;
mod state;

pub use config::CommandConfig;
pub use error::StartupError;
pub use routes::openapi::CommandApi;
pub use startup::Application;
