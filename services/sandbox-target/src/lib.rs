//! A stand-in for the target GraphQL API: the seed's schema, a token-bucket
//! rate limit, fault injection, and counters that make it an oracle for tests
//! and benchmarks.

mod admin;
mod config;
mod error;
mod faults;
mod hostile;
mod received;
mod routes;
mod schema;
mod startup;
mod store;
mod window;

pub use config::{RateLimitMode, SandboxConfig};
pub use error::StartupError;
pub use faults::Faults;
pub use hostile::{Hostile, HostileAnswer};
pub use startup::Application;
pub use store::Stats;
