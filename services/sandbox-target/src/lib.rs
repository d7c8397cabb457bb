//! A stand-in for the target GraphQL API: the seed's schema, a rate limit, and
//! counters that make it an oracle for tests and benchmarks.

pub mod config;
mod error;
mod routes;
mod schema;
mod startup;
mod store;

pub use config::SandboxConfig;
pub use error::StartupError;
pub use startup::Application;
pub use store::Stats;
