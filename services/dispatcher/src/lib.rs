//! The dispatcher: consumes `events.raw` in a consumer group, enriches each
//! event, delivers it to the target's GraphQL API within the rate limit, retries
//! what may succeed later, dead-letters what never will, and records every
//! outcome on `events.status` before committing the offset.

mod backoff;
pub mod classify;
pub mod config;
mod consumer;
mod context;
mod delivery;
mod enrich;
mod error;
mod graphql;
mod internal_events;
mod metrics_catalogue;
mod ops;
mod outcomes;
mod pacer;
mod startup;
mod tracker;

pub use config::DispatcherConfig;
pub use error::StartupError;
pub use startup::Application;
