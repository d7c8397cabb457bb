//! The dispatcher: consumes `events.raw` in a consumer group, enriches each
//! event, delivers it to the target's GraphQL API within the rate limit, retries
//! what may succeed later, dead-letters what never will, and records every
//! outcome on `events.status` before committing the offset.

mod arrivals;
mod breaker;
mod classify;
mod config;
mod consumer;
mod context;
mod controls;
mod delivery;
mod durably;
mod enrich;
mod error;
mod gate;
mod graphql;
mod internal_events;
mod metrics_catalogue;
mod outcomes;
mod pacer;
mod routes;
mod share;
mod startup;
mod step;
mod supervise;
mod tracker;

pub use config::DispatcherConfig;
pub use error::StartupError;
pub use orch_kafka::ControlsError;
pub use startup::Application;
