//! The command service: authenticates, validates and normalises events, and
//! answers 202 only once the raw record is durable in Kafka.

pub mod config;
pub mod domain;
mod error;
mod publisher;
mod routes;
mod startup;

pub use config::CommandConfig;
pub use error::StartupError;
pub use startup::Application;
